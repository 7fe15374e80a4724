//! Tests of the ZAP XML parser: fixtures, hostile input and the shared
//! corpus.

mod common;
mod dast_common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find};
use ctem_model::{AssetKind, Cwe, Finding, FindingKind, Severity, SourceStatus};
use dast_common::{assert_absent, billion_laughs_doctype, instance_count, normalized, targets};

const FORMAT: &str = "zap-xml";

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    dast_common::parse(FORMAT, name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    dast_common::parse_fixture(FORMAT, name)
}

fn by_rule<'r>(report: &'r ParsedReport, rule: &str) -> Vec<&'r Finding> {
    report.findings.iter().filter(|f| f.rule_id == rule).collect()
}

/// Wraps alert items in a report with one site.
fn report_with(alerts: &str) -> String {
    format!(
        "<OWASPZAPReport version=\"2.15.0\"><site name=\"https://shop.example.test\" host=\"shop.example.test\" \
         port=\"443\" ssl=\"true\"><alerts>{alerts}</alerts></site></OWASPZAPReport>"
    )
}

#[test]
fn empty_report_covers_default() {
    let report = parse_fixture("empty.xml");
    assert!(report.findings.is_empty());
    assert!(report.assets.is_empty());
    assert_eq!(targets(&report, "zap"), ["zap-xml:empty.xml"]);
}

#[test]
fn clean_site_is_target() {
    let report = parse_fixture("clean_site.xml");
    assert!(report.findings.is_empty());
    assert_eq!(targets(&report, "zap"), ["https://shop.example.test"]);
    assert_eq!(report.assets.len(), 1);
}

#[test]
fn one_finding_snapshot() {
    let report = parse_fixture("one.xml");
    assert_eq!(report.findings.len(), 1);
    insta::assert_json_snapshot!("one", normalized(&report));
}

#[test]
fn many_findings_snapshot() {
    let report = parse_fixture("many.xml");
    assert_eq!(report.findings.len(), 5);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn alert_fields_map() {
    let report = parse_fixture("one.xml");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "zap");
    assert_eq!(finding.rule_id, "40012");
    assert_eq!(finding.kind, FindingKind::WebWeakness);
    assert_eq!(finding.title, "Cross Site Scripting (Reflected)");
    assert_eq!(finding.severity, Severity::High);
    assert_eq!(finding.cwes, [Cwe(79)]);
    assert_eq!(
        finding.location.url.as_deref(),
        Some("https://shop.example.test/search?q=%3Cscript%3Ealert%281%29%3C%2Fscript%3E")
    );
    assert_eq!(finding.location.method.as_deref(), Some("GET"));
    assert_eq!(finding.location.parameter.as_deref(), Some("q"));
    assert_eq!(finding.evidence.as_deref(), Some("<script>alert(1)</script>"));
    assert_eq!(
        finding.attributes.get("attack").map(String::as_str),
        Some("<script>alert(1)</script>")
    );
    assert_eq!(finding.attributes.get("confidence").map(String::as_str), Some("medium"));
    assert_eq!(finding.target.as_deref(), Some("https://shop.example.test"));
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

/// The XML and the JSON report of one scan give the same finding.
#[test]
fn xml_and_json_agree() {
    let xml = parse_fixture("one.xml");
    let json = dast_common::parse_fixture("zap-json", "one.json");
    let (xml, json) = (&xml.findings[0], &json.findings[0]);
    assert_eq!(xml.fingerprint(), json.fingerprint());
    assert_eq!(xml.title, json.title);
    assert_eq!(xml.description, json.description);
    assert_eq!(xml.fix, json.fix);
    assert_eq!(xml.references, json.references);
    assert_eq!(xml.asset, json.asset);
}

#[test]
fn same_place_instances_merge() {
    let report = parse_fixture("many.xml");
    let timestamps = by_rule(&report, "10096");
    assert_eq!(timestamps.len(), 1);
    let timestamp = timestamps[0];
    assert_eq!(timestamp.attributes.get("instances").map(String::as_str), Some("2"));
    assert_eq!(timestamp.evidence.as_deref(), Some("1717400000"));
    assert_eq!(timestamp.source_status, Some(SourceStatus::FalsePositive));
    assert_eq!(by_rule(&report, "10038").len(), 2, "two URLs, two findings");
}

#[test]
fn credentials_are_masked() {
    let report = parse_fixture("many.xml");
    let weak = by_rule(&report, "10105")[0];
    assert_eq!(weak.evidence.as_deref(), Some("Authorization: Basic ********"));
    let description = weak.description.as_deref().unwrap_or_default();
    assert!(
        description.ends_with("Cookie: JSESSIONID=********; theme=********"),
        "{description}"
    );
    assert_absent(
        &report,
        &[
            "YWRtaW46c2hvcC1hZG1pbi0yMDI0",
            "4C1F0A77B2E9D31C",
            "eyJhbGciOiJIUzI1NiJ9",
            "7f3a9c2e11d04b5a",
            "welcome",
        ],
    );
}

#[test]
fn each_site_is_an_asset() {
    let report = parse_fixture("many.xml");
    assert_eq!(
        targets(&report, "zap"),
        ["http://10.20.30.40:8080", "https://shop.example.test"]
    );
    assert_eq!(report.assets.len(), 2);
    let shop = &report.assets[0];
    assert_eq!(shop.kind, AssetKind::WebApp);
    assert_eq!(
        shop.identifier_values("hostname").collect::<Vec<_>>(),
        ["shop.example.test"]
    );
    let internal = &report.assets[1];
    assert_eq!(internal.identifier_values("ip").collect::<Vec<_>>(), ["10.20.30.40"]);
    assert_eq!(internal.identifier_values("port").collect::<Vec<_>>(), ["8080"]);
    let headers = by_rule(&report, "10021")[0];
    assert_eq!(headers.asset, internal.key);
    assert_eq!(headers.location.method.as_deref(), Some("POST"));
    let description = headers.description.as_deref().unwrap_or_default();
    assert!(description.contains("\"nosniff\""), "{description}");
    assert!(
        description.ends_with("Other information: This issue still applies to error type pages."),
        "{description}"
    );
}

#[test]
fn alert_ref_kept_when_different() {
    let report = parse_fixture("many.xml");
    let csp = by_rule(&report, "10038")[0];
    assert_eq!(csp.attributes.get("alert_ref").map(String::as_str), Some("10038-1"));
    assert_eq!(
        csp.references,
        [
            "https://developer.mozilla.org/en-US/docs/Web/HTTP/CSP",
            "https://www.w3.org/TR/CSP/"
        ]
    );
    let headers = by_rule(&report, "10021")[0];
    assert_eq!(headers.attributes.get("alert_ref"), None);
}

#[test]
fn old_layout_places_read() {
    let report = parse_fixture("old_layout.xml");
    assert_eq!(targets(&report, "zap"), ["http://intranet.example.test"]);
    let xss = by_rule(&report, "10016");
    let urls: Vec<_> = xss
        .iter()
        .map(|f| f.location.url.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(
        urls,
        [
            "http://intranet.example.test/",
            "http://intranet.example.test/robots.txt",
            "http://intranet.example.test/sitemap.xml"
        ]
    );
    assert!(
        xss.iter()
            .all(|f| f.location.parameter.as_deref() == Some("X-XSS-Protection"))
    );
    assert_eq!(xss[0].title, "Web Browser XSS Protection Not Enabled", "from <alert>");
    let first = xss[0].description.as_deref().unwrap_or_default();
    assert!(
        first.ends_with("allows the web server to enable the protection."),
        "{first}"
    );
    let second = xss[1].description.as_deref().unwrap_or_default();
    assert!(
        second.ends_with("Other information: Applies to every page of the site."),
        "{second}"
    );
}

#[test]
fn alert_without_instances_uses_site() {
    let report = parse_fixture("old_layout.xml");
    let frame = by_rule(&report, "10020")[0];
    assert_eq!(frame.severity, Severity::Medium);
    assert_eq!(frame.location.url.as_deref(), Some("http://intranet.example.test"));
    assert_eq!(frame.cwes, [Cwe(16)]);
}

#[test]
fn differing_alert_text_kept() {
    let document = report_with(
        "<alertitem><pluginid>10011</pluginid><alert>zap1: Cookie Without Secure Flag</alert>\
         <name>Cookie Without Secure Flag</name><riskcode>1</riskcode></alertitem>",
    );
    let report = parse("labels.xml", document.as_bytes()).unwrap();
    let finding = &report.findings[0];
    assert_eq!(finding.title, "Cookie Without Secure Flag");
    assert_eq!(
        finding.attributes.get("alert").map(String::as_str),
        Some("zap1: Cookie Without Secure Flag")
    );
}

#[test]
fn alert_outside_site_uses_default() {
    let document = "<OWASPZAPReport version=\"2.4.0\"><alerts><alertitem><pluginid>10202</pluginid>\
                    <alert>Absence of Anti-CSRF Tokens</alert><riskcode>1</riskcode></alertitem></alerts>\
                    </OWASPZAPReport>";
    let report = parse("nosite.xml", document.as_bytes()).unwrap();
    assert_eq!(targets(&report, "zap"), ["zap-xml:nosite.xml"]);
    assert_eq!(report.findings[0].target.as_deref(), Some("zap-xml:nosite.xml"));
    assert_eq!(report.findings[0].location.url, None);
}

#[test]
fn fingerprints_separate_places() {
    let report = parse_fixture("many.xml");
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), report.findings.len());
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["one.xml", "many.xml", "clean_site.xml", "empty.xml", "old_layout.xml"] {
        let bytes = dast_common::fixture(FORMAT, name);
        assert_eq!(parser.detect(&bytes), Detection::Certain, "{name}");
        assert_eq!(ctem_ingest::detect(&bytes).map(|p| p.info().id), Some(FORMAT), "{name}");
    }
    assert_eq!(parser.detect(b"<issues burpVersion=\"2024.1\">"), Detection::No);
}

#[test]
fn newer_major_version_is_rejected() {
    let error = parse("zap3.xml", b"<OWASPZAPReport version=\"3.0.0\"></OWASPZAPReport>").unwrap_err();
    assert!(
        error.message.contains("unsupported ZAP version \"3.0.0\""),
        "{}",
        error.message
    );
    assert_eq!(error.position, Some(Position::Byte(0)));
}

#[test]
fn weekly_version_is_read() {
    let report = parse(
        "weekly.xml",
        b"<OWASPZAPReport version=\"D-2024-01-08\"></OWASPZAPReport>",
    )
    .unwrap();
    assert!(report.findings.is_empty());
}

#[test]
fn truncated_file_names_position() {
    let bytes = dast_common::fixture(FORMAT, "many.xml");
    let error = parse("cut.xml", &bytes[..bytes.len() / 2]).unwrap_err();
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(
        matches!(error.position, Some(Position::Byte(offset)) if offset > 0),
        "{error}"
    );
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse(
        "bad.xml",
        b"<OWASPZAPReport><site name=\"x\"></alerts></OWASPZAPReport>",
    )
    .unwrap_err();
    assert!(error.message.contains("invalid XML"), "{}", error.message);
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn other_format_is_rejected() {
    let error = parse(
        "nmap.xml",
        b"<?xml version=\"1.0\"?><nmaprun scanner=\"nmap\"></nmaprun>",
    )
    .unwrap_err();
    assert!(
        error.message.contains("expected the root element <OWASPZAPReport>"),
        "{}",
        error.message
    );
    assert!(error.message.contains("<nmaprun>"), "{}", error.message);
    let error = parse("blank.xml", b"   \n").unwrap_err();
    assert!(error.message.contains("no XML element found"), "{}", error.message);
}

#[test]
fn invalid_utf8_is_rejected() {
    let mut document = report_with("<alertitem><pluginid>1</pluginid><desc>caf").into_bytes();
    document.extend_from_slice(b"\xff\xfe</desc></alertitem>");
    let document = [document, b"</alerts></site></OWASPZAPReport>".to_vec()].concat();
    let error = parse("latin1.xml", &document).unwrap_err();
    assert!(matches!(error.position, Some(Position::Byte(_))), "{error}");
}

#[test]
fn billion_laughs_is_not_expanded() {
    let mut document = billion_laughs_doctype("OWASPZAPReport");
    document.push_str(&report_with(
        "<alertitem><pluginid>1</pluginid><name>&lol9;</name><desc>&lol9;</desc></alertitem>",
    ));
    let started = Instant::now();
    let report = parse("lol.xml", document.as_bytes()).expect("parses without expanding");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(report.findings[0].title, "&lol9;");
    assert_eq!(report.findings[0].description.as_deref(), Some("&lol9;"));
}

#[test]
fn deep_nesting_is_read() {
    let depth = 100_000;
    let document = format!(
        "<OWASPZAPReport version=\"2.15.0\">{}{}</OWASPZAPReport>",
        "<x>".repeat(depth),
        "</x>".repeat(depth)
    );
    let report = parse("deep.xml", document.as_bytes()).expect("nesting is not recursion");
    assert!(report.findings.is_empty());
}

#[test]
fn long_evidence_is_cut() {
    let long = "A".repeat(8 * 1024 * 1024);
    let document = report_with(&format!(
        "<alertitem><pluginid>10027</pluginid><name>Information Disclosure - Suspicious Comments</name>\
         <instances><instance><uri>https://shop.example.test/app.js</uri><evidence>{long}</evidence></instance>\
         </instances></alertitem>"
    ));
    let report = parse("long.xml", document.as_bytes()).unwrap();
    let evidence = report.findings[0].evidence.as_deref().unwrap_or_default();
    assert!(evidence.len() < 5000, "{}", evidence.len());
    assert!(
        evidence.ends_with("bytes kept]"),
        "{}",
        &evidence[evidence.len() - 40..]
    );
}

#[test]
fn large_report_streams() {
    let alerts = 20;
    let instances = 1_000;
    let mut document =
        String::from("<OWASPZAPReport version=\"2.15.0\"><site name=\"https://big.example.test\"><alerts>");
    for alert in 0..alerts {
        document.push_str(&format!(
            "<alertitem><pluginid>{}</pluginid><name>Alert {alert}</name><riskcode>{}</riskcode><instances>",
            10_000 + alert,
            alert % 4
        ));
        for instance in 0..instances {
            document.push_str(&format!(
                "<instance><uri>https://big.example.test/page/{instance}</uri><method>GET</method></instance>"
            ));
        }
        document.push_str("</instances><desc>&lt;p&gt;generated&lt;/p&gt;</desc></alertitem>");
    }
    document.push_str("</alerts></site></OWASPZAPReport>");
    let report = parse("large.xml", document.as_bytes()).unwrap();
    assert_eq!(report.findings.len(), alerts * instances);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), alerts * instances);
}

/// Groups findings by alert item, because DefectDojo makes one finding per
/// alert item with every instance as an endpoint. An alert item is its
/// plugin id with its name. Some reports have items that share both, so
/// the `alert` text is added where it differs from the name.
fn group_key(finding: &Finding) -> String {
    let label = finding.attributes.get("alert").unwrap_or(&finding.title);
    format!("{}|{label}", finding.rule_id)
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("zap_xml", FORMAT, group_key);
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

    // Every instance of an alert is counted by one finding.
    let instances: usize = report("juicy2.xml").findings.iter().map(instance_count).sum();
    assert_eq!(instances, 86);
    let instances: usize = report("0_zap_sample.xml").findings.iter().map(instance_count).sum();
    assert_eq!(instances, 3 + 4 + 1 + 4, "the commented-out alert is not read");

    let juicy = report("juicy2.xml");
    let cache = by_rule(juicy, "10015");
    assert_eq!(cache[0].title, "Incomplete or No Cache-control Header Set");
    assert_eq!(cache[0].severity, Severity::Low);
    assert_eq!(
        cache.iter().map(|f| instance_count(f)).sum::<usize>(),
        20,
        "20 endpoints"
    );
    assert!(
        cache
            .iter()
            .all(|f| f.asset.as_str() == "web_app:https://juice-shop.herokuapp.com")
    );
    assert!(cache.iter().any(
        |f| f.location.url.as_deref() == Some("https://juice-shop.herokuapp.com/assets/public/polyfills-es2018.js")
    ));
    let wildcard = by_rule(juicy, "10055");
    assert_eq!(wildcard[0].title, "CSP: Wildcard Directive");
    assert_eq!(wildcard[0].severity, Severity::Medium);
    assert_eq!(wildcard[0].cwes, [Cwe(693)]);
    assert_eq!(wildcard.len(), 2, "2 endpoints");

    let recent = report("zap_2.16.1_with_req_resp.xml");
    assert!(recent.findings.iter().all(|f| f.severity == Severity::Info));
    assert!(
        recent
            .findings
            .iter()
            .all(|f| f.target.as_deref() == Some("https://example-domain.com"))
    );
    let counts: BTreeMap<&str, usize> = ["10111", "10029", "10024", "10015"]
        .into_iter()
        .map(|rule| (rule, by_rule(recent, rule).iter().map(|f| instance_count(f)).sum()))
        .collect();
    assert_eq!(
        counts,
        BTreeMap::from([("10111", 1), ("10029", 5), ("10024", 3), ("10015", 4)])
    );
    assert_eq!(by_rule(recent, "10111")[0].title, "Authentication Request Identified");
    assert_absent(recent, &["Bearer [REDACTED]", "TiPMix"]);

    let severities = report("3_zap_sampl_0_and_different_severities.xml");
    assert_eq!(by_rule(severities, "10054")[0].severity, Severity::Medium);
    assert!(
        !report("some_2.9.0.xml")
            .findings
            .iter()
            .any(|f| f.description.as_deref().unwrap_or_default().contains("<p>")),
        "HTML left"
    );
}

#[test]
fn corpus_detection() {
    common::check_detection("zap_xml", FORMAT, |_| true);
    dast_common::check_corpus_detection(FORMAT, |folder, _| folder == "zap_xml");
}
