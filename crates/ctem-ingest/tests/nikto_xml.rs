//! Tests of the Nikto XML parser: fixtures, hostile input and the shared
//! corpus.

mod common;
mod dast_common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find};
use ctem_model::{AssetKind, Finding, FindingKind, Severity};
use dast_common::{assert_absent, billion_laughs_doctype, normalized, targets};

const FORMAT: &str = "nikto-xml";

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    dast_common::parse(FORMAT, name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    dast_common::parse_fixture(FORMAT, name)
}

fn by_id<'r>(report: &'r ParsedReport, id: &str) -> Vec<&'r Finding> {
    report.findings.iter().filter(|f| f.rule_id == id).collect()
}

/// Wraps items in a report with one scanned site.
fn report_with(items: &str) -> String {
    format!(
        "<niktoscan><scandetails targetip=\"203.0.113.10\" targethostname=\"shop.example.test\" targetport=\"443\" \
         sitename=\"https://shop.example.test:443/\">{items}</scandetails></niktoscan>"
    )
}

#[test]
fn empty_report_covers_default() {
    let report = parse_fixture("empty.xml");
    assert!(report.findings.is_empty());
    assert!(report.assets.is_empty());
    assert_eq!(targets(&report, "nikto"), ["nikto-xml:empty.xml"]);
}

#[test]
fn one_item_snapshot() {
    let report = parse_fixture("one.xml");
    assert_eq!(report.findings.len(), 1);
    insta::assert_json_snapshot!("one", normalized(&report));
}

#[test]
fn many_items_snapshot() {
    let report = parse_fixture("many.xml");
    assert_eq!(report.findings.len(), 7);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn item_fields_map() {
    let report = parse_fixture("one.xml");
    let finding = &report.findings[0];
    assert_eq!(finding.tool, "nikto");
    assert_eq!(finding.rule_id, "999966");
    assert_eq!(finding.kind, FindingKind::WebWeakness);
    assert_eq!(finding.severity, Severity::Info);
    assert_eq!(
        finding.title,
        "The Content-Encoding header is set to \"deflate\" this may mean that the server is vulnerable to the BREACH attack."
    );
    assert_eq!(finding.location.url.as_deref(), Some("https://shop.example.test/"));
    assert_eq!(finding.location.method.as_deref(), Some("GET"));
    assert_eq!(finding.target.as_deref(), Some("https://shop.example.test"));
    let asset = &report.assets[0];
    assert_eq!(asset.kind, AssetKind::WebApp);
    assert_eq!(asset.key.as_str(), "web_app:https://shop.example.test");
    assert_eq!(asset.identifier_values("ip").collect::<Vec<_>>(), ["203.0.113.10"]);
    assert_eq!(asset.attributes.get("server").map(String::as_str), Some("nginx/1.18.0"));
}

#[test]
fn header_checks_separate_findings() {
    let report = parse_fixture("many.xml");
    let uncommon = by_id(&report, "999100");
    let headers: Vec<_> = uncommon.iter().map(|f| f.location.parameter.as_deref()).collect();
    assert_eq!(headers, [Some("x-cache"), Some("x-backend-server")]);
    let retrieved = by_id(&report, "999986");
    let headers: Vec<_> = retrieved.iter().map(|f| f.location.parameter.as_deref()).collect();
    assert_eq!(headers, [Some("via"), Some("x-powered-by")]);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), report.findings.len());
}

#[test]
fn osvdb_and_references_read() {
    let report = parse_fixture("many.xml");
    let backup = by_id(&report, "001811")[0];
    let ids: Vec<_> = backup.vulnerability_ids.iter().map(|id| id.as_str()).collect();
    assert_eq!(ids, ["OSVDB:3092"]);
    assert_eq!(backup.references, ["http://osvdb.org/3092"]);
    assert_eq!(
        backup.title, "This might be interesting.",
        "the path before the message is removed"
    );
    let sniff = by_id(&report, "999103")[0];
    assert_eq!(
        sniff.references,
        ["https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/X-Content-Type-Options"]
    );
    assert!(
        sniff.title.starts_with("The X-Content-Type-Options header is not set."),
        "{}",
        sniff.title
    );
    assert!(by_id(&report, "999966").is_empty());
}

#[test]
fn default_password_is_masked() {
    let report = parse_fixture("many.xml");
    let account = by_id(&report, "700007")[0];
    assert_eq!(
        account.title,
        "Default account found for 'Restricted' at /status (ID 'admin', PW '********'). Embedded device."
    );
    assert!(account.secret.is_some());
    assert_absent(&report, &["ch4ng3me"]);
}

#[test]
fn each_scan_is_a_target() {
    let report = parse_fixture("many.xml");
    assert_eq!(
        targets(&report, "nikto"),
        ["http://portal.example.test:8080", "https://shop.example.test"]
    );
    assert_eq!(report.assets.len(), 2);
    assert_eq!(
        by_id(&report, "999986")[0].location.url.as_deref(),
        Some("https://shop.example.test/")
    );
}

/// The XML and the JSON output of one scan give the same findings.
#[test]
fn xml_and_json_agree() {
    let xml = parse_fixture("many.xml");
    let json = dast_common::parse_fixture("nikto-json", "many.json");
    let fingerprints = |report: &ParsedReport| {
        report
            .findings
            .iter()
            .map(Finding::fingerprint)
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(fingerprints(&xml), fingerprints(&json));
    assert_eq!(xml.targets, json.targets);
    let titles = |report: &ParsedReport| report.findings.iter().map(|f| f.title.clone()).collect::<BTreeSet<_>>();
    assert_eq!(titles(&xml), titles(&json));
}

#[test]
fn fixtures_are_detected() {
    let parser = find(FORMAT).expect("registered");
    for name in ["one.xml", "many.xml", "empty.xml"] {
        let bytes = dast_common::fixture(FORMAT, name);
        assert_eq!(parser.detect(&bytes), Detection::Certain, "{name}");
        assert_eq!(ctem_ingest::detect(&bytes).map(|p| p.info().id), Some(FORMAT), "{name}");
    }
    assert_eq!(parser.detect(b"<nmaprun></nmaprun>"), Detection::No);
}

#[test]
fn item_outside_scan_uses_default() {
    let document = "<niktoscan><item id=\"999990\" method=\"GET\"><description>Allowed HTTP Methods: GET, HEAD\
                    </description><uri>/</uri></item></niktoscan>";
    let report = parse("bare.xml", document.as_bytes()).unwrap();
    assert_eq!(targets(&report, "nikto"), ["nikto-xml:bare.xml"]);
    assert_eq!(report.findings[0].location.url.as_deref(), Some("/"));
}

#[test]
fn newer_xml_version_is_rejected() {
    let error = parse("v2.xml", b"<niktoscan nxmlversion=\"2.0\"></niktoscan>").unwrap_err();
    assert!(
        error.message.contains("unsupported Nikto XML version \"2.0\""),
        "{}",
        error.message
    );
    assert_eq!(error.position, Some(Position::Byte(0)));
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
    let error = parse("bad.xml", report_with("<item id=\"1\"><uri>/</item>").as_bytes()).unwrap_err();
    assert!(error.message.contains("invalid XML"), "{}", error.message);
    assert!(error.position.is_some(), "{error}");
}

#[test]
fn other_format_is_rejected() {
    let error = parse("burp.xml", b"<issues burpVersion=\"2024.1\"></issues>").unwrap_err();
    assert!(
        error.message.contains("expected the root element <niktoscan>"),
        "{}",
        error.message
    );
    assert!(error.message.contains("<issues>"), "{}", error.message);
}

#[test]
fn invalid_utf8_is_rejected() {
    let mut document = b"<niktoscan><scandetails><item id=\"1\"><description>caf".to_vec();
    document.extend_from_slice(b"\xe9</description></item></scandetails></niktoscan>");
    let error = parse("latin1.xml", &document).unwrap_err();
    assert!(matches!(error.position, Some(Position::Byte(_))), "{error}");
}

#[test]
fn billion_laughs_is_not_expanded() {
    let mut document = billion_laughs_doctype("niktoscan");
    document.push_str(&report_with(
        "<item id=\"1\" method=\"GET\"><description>&lol9;</description><uri>/</uri></item>",
    ));
    let started = Instant::now();
    let report = parse("lol.xml", document.as_bytes()).expect("parses without expanding");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(report.findings[0].title, "&lol9;");
}

#[test]
fn large_report_streams() {
    let items = 20_000;
    let mut body = String::new();
    for item in 0..items {
        body.push_str(&format!(
            "<item id=\"740001\" osvdbid=\"0\" method=\"GET\"><description>Potentially interesting backup/cert file \
             found.</description><uri>/backup/{item}.tar</uri></item>"
        ));
    }
    let report = parse("large.xml", report_with(&body).as_bytes()).unwrap();
    assert_eq!(report.findings.len(), items);
    let fingerprints: BTreeSet<_> = report.findings.iter().map(Finding::fingerprint).collect();
    assert_eq!(fingerprints.len(), items);
}

/// Groups findings as DefectDojo merges Nikto results: by message (the
/// severity it adds follows the OSVDB id, which the message decides here).
fn group_key(finding: &Finding) -> String {
    finding.title.clone()
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder_where("nikto", FORMAT, group_key, |file| file.ends_with(".xml"));
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

    let tdh = report("tdh.xml");
    let first = &tdh.findings[0];
    assert_eq!(first.title, "Uncommon header 'x-cache' found, with contents: HIT");
    assert_eq!(first.rule_id, "999100");
    assert_eq!(first.severity, Severity::Info);
    assert_eq!(first.asset.as_str(), "web_app:https://www.tdh.com");
    let asset = &tdh.assets[0];
    assert_eq!(asset.identifier_values("ip").collect::<Vec<_>>(), ["64.220.43.153"]);
    assert_eq!(asset.identifier_values("port").collect::<Vec<_>>(), ["443"]);
    assert_eq!(
        tdh.findings[1].title,
        "Uncommon header 'x-cacheable' found, with contents: YES"
    );
    let breach = &tdh.findings[5];
    assert_eq!(breach.rule_id, "999966");
    assert!(breach.title.ends_with("BREACH attack."), "{}", breach.title);

    for name in ["nikto-report-old-format.xml", "nikto-report-one-vuln.xml"] {
        let parsed = report(name);
        assert_eq!(parsed.findings[0].rule_id, "999970", "{name}");
        assert_eq!(
            parsed.findings[0].asset.as_str(),
            "web_app:https://192.168.0.24",
            "{name}"
        );
    }
}

#[test]
fn corpus_detection() {
    common::check_detection("nikto", FORMAT, |file| file.ends_with(".xml"));
    dast_common::check_corpus_detection(FORMAT, |folder, file| folder == "nikto" && file.ends_with(".xml"));
}
