//! Tests of the Qualys XML parser (Asset Data Report, scan report and host
//! detection list): fixtures, hostile input and the shared corpus.

mod common;
mod host_scan_common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find};
use ctem_model::{AssetKind, Cwe, Finding, Severity, SourceStatus};
use host_scan_common::{
    assert_well_formed, attribute, billion_laughs, by_rule, check_detected_exactly, fixture, ids, normalized, scopes,
    vectors,
};

const FORMAT: &str = "qualys-xml";

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    host_scan_common::parse(FORMAT, name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    host_scan_common::parse_fixture(FORMAT, name)
}

/// Builds an Asset Data Report with the given `<HOST>` elements and
/// `<VULN_DETAILS>` entries.
fn asset_data_report(hosts: &str, details: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<ASSET_DATA_REPORT><HOST_LIST>{hosts}</HOST_LIST>\
         <GLOSSARY><VULN_DETAILS_LIST>{details}</VULN_DETAILS_LIST></GLOSSARY></ASSET_DATA_REPORT>"
    )
}

#[test]
fn detects_fixtures() {
    let parser = find(FORMAT).expect("registered");
    for name in ["empty.xml", "one.xml", "many.xml", "scan.xml", "detections.xml"] {
        assert_eq!(parser.detect(&fixture(FORMAT, name)), Detection::Certain, "{name}");
    }
    assert_eq!(parser.detect(b"<SCAN><other/></SCAN>"), Detection::Maybe);
    assert_eq!(parser.detect(b"<report/>"), Detection::No);
}

#[test]
fn host_without_detections() {
    let report = parse_fixture("empty.xml");
    assert!(report.findings.is_empty());
    assert_eq!(scopes(&report), ["qualys host:198.51.100.40"]);
    let host = &report.assets[0];
    assert_eq!(host.name, "backup01.example.test");
    assert_eq!(
        host.attributes.get("os").map(String::as_str),
        Some("Ubuntu Linux 22.04")
    );
    assert_eq!(host.attributes.get("tracking_method").map(String::as_str), Some("IP"));
}

#[test]
fn one_detection_snapshot() {
    let report = parse_fixture("one.xml");
    assert_eq!(report.findings.len(), 1);
    assert_well_formed(&report);
    insta::assert_json_snapshot!("one", normalized(&report));
}

#[test]
fn many_snapshot() {
    let report = parse_fixture("many.xml");
    assert_eq!(report.findings.len(), 5);
    assert_well_formed(&report);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn detection_fields() {
    let report = parse_fixture("one.xml");
    let ssh = &report.findings[0];
    assert_eq!(ssh.tool, "qualys");
    assert_eq!(ssh.rule_id, "38739");
    assert_eq!(ssh.title, "Deprecated SSH Cryptographic Settings");
    assert_eq!(ssh.severity, Severity::Medium, "Qualys level 3");
    assert_eq!(ids(ssh), ["CVE-2015-4000"]);
    assert_eq!(
        vectors(ssh),
        [
            "AV:N/AC:M/Au:N/C:P/I:N/A:N",
            "CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N"
        ]
    );
    assert_eq!(ssh.location.port, Some(22));
    assert_eq!(ssh.location.protocol.as_deref(), Some("tcp"));
    assert_eq!(ssh.source_status, Some(SourceStatus::Affected));

    let description = ssh.description.as_deref().expect("a description");
    assert!(
        description.starts_with("The SSH protocol allows key exchange algorithms that are no longer considered secure:\n- diffie-hellman-group1-sha1\n\nSee RFC 9142"),
        "{description}"
    );
    assert!(description.ends_with("Impact: A man-in-the-middle attacker may be able to decrypt the session."));
    assert_eq!(
        ssh.fix.description.as_deref(),
        Some("Disable the weak algorithms in the SSH server configuration & restart it.")
    );
    assert_eq!(ssh.references, ["https://www.rfc-editor.org/rfc/rfc9142"]);
    assert_eq!(
        ssh.evidence.as_deref(),
        Some("Type\tName\nkey_exchange\tdiffie-hellman-group1-sha1")
    );

    assert_eq!(attribute(ssh, "qualys_type"), Some("confirmed"));
    assert_eq!(attribute(ssh, "qualys_severity"), Some("3"));
    assert_eq!(attribute(ssh, "cvss_base_score"), Some("4.3"));
    assert_eq!(attribute(ssh, "cvss3_base_score"), Some("5.3"));
    assert_eq!(attribute(ssh, "cvss3_temporal"), Some("4.9 (E:U/RL:O/RC:C)"));
    assert_eq!(attribute(ssh, "cvss3_final"), Some("5.3"));
    assert_eq!(attribute(ssh, "category"), Some("General remote services"));
    assert_eq!(attribute(ssh, "first_found"), Some("2024-04-01T08:00:00Z"));
    assert_eq!(attribute(ssh, "service"), Some("ssh"));

    let host = report
        .assets
        .iter()
        .find(|a| a.kind == AssetKind::Host)
        .expect("a host");
    assert_eq!(host.key.as_str(), "host:198.51.100.41");
    assert_eq!(
        host.identifier_values("fqdn").collect::<Vec<_>>(),
        ["shop01.example.test"]
    );
    assert_eq!(host.identifier_values("netbios_name").collect::<Vec<_>>(), ["SHOP01"]);
    let service = report
        .assets
        .iter()
        .find(|a| a.kind == AssetKind::Service)
        .expect("a service");
    assert_eq!(service.key.as_str(), "service:198.51.100.41:22/tcp");
    assert_eq!(service.attributes.get("service").map(String::as_str), Some("ssh"));
}

#[test]
fn glossary_details_apply_per_host() {
    let report = parse_fixture("many.xml");
    let headers = by_rule(&report, "11827");
    assert_eq!(headers.len(), 2, "one finding per host");
    assert!(headers.iter().all(|f| f.title == "HTTP Security Header Not Detected"));
    assert!(headers.iter().all(|f| f.severity == Severity::Low));
    assert_eq!(ids(headers[0]), ["BID:100001"]);
    assert_eq!(headers[0].cwes, [Cwe(693)], "from the CWE link of the threat");
    assert_eq!(attribute(headers[0], "qualys_type"), Some("potential"));
    assert_eq!(attribute(headers[0], "fqdn"), Some("www.example.test"));
    assert_eq!(headers[1].location.port, Some(8443));

    let dns = by_rule(&report, "6")[0];
    assert_eq!(dns.severity, Severity::Info, "Qualys level 1");
    assert_eq!(dns.title, "DNS Host Name");
    assert!(dns.fix.is_empty(), "N/A is no solution");
    assert_eq!(attribute(dns, "qualys_type"), Some("information"));
}

#[test]
fn versions_exploits_and_lists() {
    let report = parse_fixture("many.xml");
    let update = by_rule(&report, "91762")[0];
    assert_eq!(update.severity, Severity::Critical);
    assert_eq!(ids(update), ["CVE-2021-31166", "CVE-2021-28476"]);
    assert_eq!(
        vectors(update),
        [
            "AV:N/AC:M/Au:N/C:C/I:C/A:C",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
        ]
    );
    assert_eq!(attribute(update, "known_exploits"), Some("1"));
    assert_eq!(attribute(update, "vendor_references"), Some("KB5003171, KB5003197"));
    assert_eq!(attribute(update, "cvss_final"), None, "a dash is no score");
    assert!(
        update
            .description
            .as_deref()
            .unwrap_or_default()
            .contains("update:\n- KB5003171\n- KB5003197")
    );
    assert_eq!(
        update.references,
        [
            "https://msrc.microsoft.com/update-guide/",
            "https://support.microsoft.com/kb/5003171",
            "https://support.microsoft.com/kb/5003197"
        ]
    );
    assert_eq!(update.source_status, Some(SourceStatus::Affected));
}

#[test]
fn qid_without_glossary_entry() {
    let report = parse_fixture("many.xml");
    let ntp = by_rule(&report, "120000")[0];
    assert_eq!(ntp.title, "Qualys QID 120000");
    assert_eq!(ntp.severity, Severity::Info);
    assert_eq!(ntp.source_status, Some(SourceStatus::Fixed));
    assert_eq!(ntp.location.protocol.as_deref(), Some("udp"));
    assert_eq!(
        ntp.evidence.as_deref(),
        Some("monlist answered with 600 entries &amp; more"),
        "CDATA is literal"
    );
}

#[test]
fn every_host_is_a_scope() {
    let report = parse_fixture("many.xml");
    assert_eq!(
        scopes(&report),
        [
            "qualys host:198.51.100.50",
            "qualys host:198.51.100.51",
            "qualys host:198.51.100.52"
        ]
    );
    let printer = report
        .assets
        .iter()
        .find(|a| a.key.as_str() == "host:198.51.100.52")
        .expect("host without detections");
    assert_eq!(printer.identifier_values("hostname").collect::<Vec<_>>(), ["printer02"]);
}

#[test]
fn scan_report() {
    let report = parse_fixture("scan.xml");
    assert_well_formed(&report);
    assert_eq!(report.findings.len(), 4);
    assert_eq!(
        scopes(&report),
        ["qualys host:203.0.113.60", "qualys host:203.0.113.61"]
    );

    let postfix = by_rule(&report, "74042")[0];
    assert_eq!(postfix.title, "Postfix SMTP Smuggling Vulnerability");
    assert_eq!(postfix.severity, Severity::High);
    assert_eq!(
        ids(postfix),
        ["CVE-2023-51764"],
        "the cveid attribute and the list name one CVE"
    );
    assert_eq!(vectors(postfix), ["CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:N"]);
    assert_eq!(attribute(postfix, "cvss_base_score"), Some("5.0"));
    assert_eq!(postfix.location.port, Some(25));
    assert_eq!(
        postfix.evidence.as_deref(),
        Some("220 mail02.example.test ESMTP Postfix (3.6.4)")
    );
    assert_eq!(
        postfix.description.as_deref(),
        Some(
            "Postfix through 3.8.4 allows SMTP smuggling.\n\nImpact: Attackers can spoof e-mail that passes SPF checks."
        )
    );
    assert_eq!(attribute(postfix, "qualys_type"), Some("confirmed"));
    assert_eq!(attribute(postfix, "scan_category"), Some("Mail services"));

    let sha1 = by_rule(&report, "38909")[0];
    assert_eq!(attribute(sha1, "qualys_type"), Some("potential"));
    assert_eq!(sha1.severity, Severity::Low);
    let scan_time = by_rule(&report, "45038")[0];
    assert_eq!(scan_time.location.port, None);
    assert_eq!(attribute(scan_time, "qualys_type"), Some("information"));
    assert_eq!(by_rule(&report, "82023")[0].location.port, Some(25));

    let mail = report
        .assets
        .iter()
        .find(|a| a.key.as_str() == "host:203.0.113.60")
        .expect("host");
    assert_eq!(mail.name, "mail02.example.test");
    assert_eq!(mail.identifier_values("netbios_name").collect::<Vec<_>>(), ["MAIL02"]);
    assert_eq!(mail.attributes.get("os").map(String::as_str), Some("Linux 3.x"));
}

#[test]
fn detection_list() {
    let report = parse_fixture("detections.xml");
    assert_well_formed(&report);
    assert_eq!(scopes(&report), ["qualys host:192.0.2.70", "qualys host:192.0.2.71"]);
    let aspnet = by_rule(&report, "105971")[0];
    assert_eq!(aspnet.title, "Qualys QID 105971", "the detection list has no titles");
    assert_eq!(aspnet.severity, Severity::Critical, "the detection's own severity");
    assert_eq!(aspnet.source_status, Some(SourceStatus::Affected));
    assert_eq!(attribute(aspnet, "qualys_type"), Some("confirmed"));
    assert_eq!(attribute(aspnet, "unique_vuln_id"), Some("9876543210"));
    assert_eq!(aspnet.evidence.as_deref(), Some("Microsoft ASP.NET 1.0 is installed."));

    let certificate = by_rule(&report, "38173")[0];
    assert_eq!(certificate.source_status, Some(SourceStatus::Fixed));
    assert_eq!(certificate.location.port, Some(3389));
    assert_eq!(attribute(certificate, "last_fixed"), Some("2024-05-01T10:00:00Z"));

    let host = report
        .assets
        .iter()
        .find(|a| a.key.as_str() == "host:192.0.2.70")
        .expect("host");
    assert_eq!(
        host.identifier_values("fqdn").collect::<Vec<_>>(),
        ["app07.example.test"]
    );
}

#[test]
fn glossary_before_hosts() {
    let document = "<ASSET_DATA_REPORT><GLOSSARY><VULN_DETAILS_LIST><VULN_DETAILS id=\"qid_6\"><QID>6</QID>\
                    <TITLE>DNS Host Name</TITLE><SEVERITY>1</SEVERITY></VULN_DETAILS></VULN_DETAILS_LIST></GLOSSARY>\
                    <HOST_LIST><HOST><IP>192.0.2.80</IP><VULN_INFO_LIST><VULN_INFO><QID>6</QID><TYPE>Ig</TYPE>\
                    </VULN_INFO></VULN_INFO_LIST></HOST></HOST_LIST></ASSET_DATA_REPORT>";
    let report = parse("first.xml", document.as_bytes()).expect("parses");
    assert_eq!(report.findings[0].title, "DNS Host Name");
}

#[test]
fn host_without_ip_is_rejected() {
    let document = asset_data_report(
        "<HOST><TRACKING_METHOD>IP</TRACKING_METHOD><VULN_INFO_LIST><VULN_INFO><QID>6</QID></VULN_INFO></VULN_INFO_LIST></HOST>",
        "",
    );
    let error = parse("noip.xml", document.as_bytes()).unwrap_err();
    assert!(error.message.contains("a host has no IP address"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::Byte(_))));
}

#[test]
fn detection_without_qid_is_rejected() {
    let document = asset_data_report(
        "<HOST><IP>192.0.2.9</IP><VULN_INFO_LIST><VULN_INFO><TYPE>Vuln</TYPE></VULN_INFO></VULN_INFO_LIST></HOST>",
        "",
    );
    let error = parse("noqid.xml", document.as_bytes()).unwrap_err();
    assert!(error.message.contains("a detection has no QID"), "{}", error.message);
}

#[test]
fn external_dtd_is_not_fetched() {
    // The DOCTYPE names an address that does not resolve; the parse must
    // not wait on it.
    let document = fixture(FORMAT, "one.xml");
    let started = Instant::now();
    parse("one.xml", &document).expect("parses");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn billion_laughs_is_not_expanded() {
    let body = asset_data_report(
        "<HOST><IP>192.0.2.9</IP><VULN_INFO_LIST><VULN_INFO><QID>6</QID><RESULT>&lol9;</RESULT></VULN_INFO></VULN_INFO_LIST></HOST>",
        "<VULN_DETAILS id=\"qid_6\"><QID>6</QID><TITLE>&lol9;</TITLE><SEVERITY>1</SEVERITY></VULN_DETAILS>",
    );
    let document = billion_laughs(
        "ASSET_DATA_REPORT",
        body.trim_start_matches("<?xml version=\"1.0\"?>\n"),
    );
    let started = Instant::now();
    let report = parse("lol.xml", document.as_bytes()).expect("parses without expanding");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(report.findings[0].title, "&lol9;");
    assert_eq!(report.findings[0].evidence.as_deref(), Some("&lol9;"));
}

#[test]
fn truncated_file_names_position() {
    let bytes = fixture(FORMAT, "many.xml");
    for cut in [bytes.len() / 4, bytes.len() / 2, bytes.len() - 30] {
        let error = parse("cut.xml", &bytes[..cut]).unwrap_err();
        assert_eq!(error.format, FORMAT);
        assert!(error.message.contains("truncated"), "{}", error.message);
        assert!(matches!(error.position, Some(Position::Byte(offset)) if offset > 0));
    }
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse("bad.xml", b"<ASSET_DATA_REPORT><HOST_LIST></HOST></ASSET_DATA_REPORT>").unwrap_err();
    assert!(error.message.contains("invalid XML"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::Byte(_))));
}

#[test]
fn invalid_utf8_is_rejected() {
    let mut bytes = asset_data_report(
        "<HOST><IP>192.0.2.9</IP><VULN_INFO_LIST><VULN_INFO><QID>6</QID><RESULT>caf~</RESULT></VULN_INFO></VULN_INFO_LIST></HOST>",
        "",
    )
    .into_bytes();
    let at = bytes.iter().position(|b| *b == b'~').expect("marker");
    bytes[at] = 0xe9;
    let error = parse("latin1.xml", &bytes).unwrap_err();
    assert!(error.message.contains("invalid text"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::Byte(offset)) if offset > 50));
}

#[test]
fn other_format_is_rejected() {
    let error = parse("nessus.xml", b"<NessusClientData_v2/>").unwrap_err();
    assert!(
        error.message.contains("expected the root element <ASSET_DATA_REPORT>, <SCAN> or <HOST_LIST_VM_DETECTION_OUTPUT>, found <NessusClientData_v2>"),
        "{}",
        error.message
    );
    let error = parse(
        "api.xml",
        b"<SIMPLE_RETURN><RESPONSE><TEXT>Bad Login</TEXT></RESPONSE></SIMPLE_RETURN>",
    )
    .unwrap_err();
    assert!(error.message.contains("found <SIMPLE_RETURN>"), "{}", error.message);
    let error = parse("blank.xml", b"\n").unwrap_err();
    assert!(error.message.contains("no XML element found"), "{}", error.message);
}

#[test]
fn deep_nesting_is_rejected() {
    let document = format!("<ASSET_DATA_REPORT>{}", "<A>".repeat(50_000));
    let error = parse("deep.xml", document.as_bytes()).unwrap_err();
    assert!(
        error.message.contains("nested more than 256 levels"),
        "{}",
        error.message
    );
}

#[test]
fn large_report_streams() {
    let hosts = 200;
    let detections = 100;
    let mut host_list = String::new();
    for host in 0..hosts {
        host_list.push_str(&format!(
            "<HOST><IP>10.70.{}.{}</IP><VULN_INFO_LIST>",
            host / 256,
            host % 256
        ));
        for detection in 0..detections {
            host_list.push_str(&format!(
                "<VULN_INFO><QID>{}</QID><TYPE>Vuln</TYPE><PORT>{}</PORT><PROTOCOL>tcp</PROTOCOL>\
                 <RESULT>result {detection}</RESULT></VULN_INFO>",
                10_000 + detection,
                8000 + detection % 10
            ));
        }
        host_list.push_str("</VULN_INFO_LIST></HOST>");
    }
    let mut glossary = String::new();
    for detection in 0..detections {
        glossary.push_str(&format!(
            "<VULN_DETAILS id=\"qid_{0}\"><QID>{0}</QID><TITLE>Check {0}</TITLE><SEVERITY>{1}</SEVERITY>\
             <CVE_ID_LIST><CVE_ID><ID>CVE-2024-{0:05}</ID></CVE_ID></CVE_ID_LIST></VULN_DETAILS>",
            10_000 + detection,
            1 + detection % 5
        ));
    }
    let report = parse("big.xml", asset_data_report(&host_list, &glossary).as_bytes()).expect("parses");
    assert_eq!(report.findings.len(), hosts * detections);
    assert_eq!(report.targets.len(), hosts);
    assert!(
        report.findings.iter().all(|f| f.title.starts_with("Check ")),
        "every detection got its details"
    );
}

/// Groups findings by QID, host and port: DefectDojo's Qualys XML parser
/// gives one finding per detection (`<VULN_INFO>`), as ctem does.
fn group_key(finding: &Finding) -> String {
    format!(
        "{} {} {:?} {:?}",
        finding.rule_id, finding.asset, finding.location.port, finding.location.protocol
    )
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("qualys", FORMAT, group_key);
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

    let sample = report("Qualys_Sample_Report.xml");
    assert_eq!(sample.findings.len(), 301);
    assert_well_formed(sample);
    let first = &sample.findings[0];
    assert_eq!(first.title, "DNS Host Name");
    assert_eq!(first.rule_id, "6");
    assert_eq!(first.severity, Severity::Info);
    let demo13 = sample.assets.iter().find(|a| a.key == first.asset).expect("host");
    assert_eq!(demo13.name, "demo13.s02.sjc01.qualys.com");
    assert!(
        attribute(first, "first_found")
            .unwrap_or_default()
            .starts_with("2019-07-31")
    );

    let mut counts: BTreeMap<Severity, usize> = BTreeMap::new();
    for finding in &sample.findings {
        *counts.entry(finding.severity).or_default() += 1;
    }
    let expected = [
        (Severity::Info, 177),
        (Severity::Low, 65),
        (Severity::Medium, 46),
        (Severity::High, 6),
        (Severity::Critical, 7),
    ];
    assert_eq!(
        counts,
        BTreeMap::from(expected),
        "Qualys levels 1 to 5 as DefectDojo's legacy mapping"
    );

    let amd = by_rule(sample, "370876");
    assert_eq!(amd.len(), 2);
    for finding in &amd {
        assert_eq!(
            finding.title,
            "AMD Processors Multiple Security Vulnerabilities (RYZENFALL/MASTERKEY/CHIMERA-FW/FALLOUT)"
        );
        assert_eq!(finding.severity, Severity::High);
        assert_eq!(
            ids(finding),
            [
                "CVE-2018-8930",
                "CVE-2018-8931",
                "CVE-2018-8932",
                "CVE-2018-8933",
                "CVE-2018-8934",
                "CVE-2018-8935",
                "CVE-2018-8936"
            ]
        );
        assert!(vectors(finding).contains(&"CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:H/A:H".to_string()));
        assert_eq!(attribute(finding, "cvss3_base_score"), Some("9.0"));
    }
    // DefectDojo takes the detection's final CVSS v3 score (8.2 on demo14)
    // in place of the vector; ctem keeps both.
    let on_demo14 = amd
        .iter()
        .find(|f| f.asset.as_str() == "host:64.41.200.244")
        .expect("demo14");
    assert_eq!(attribute(on_demo14, "cvss3_final"), Some("8.2"));
    let on_demo13 = amd
        .iter()
        .find(|f| f.asset.as_str() == "host:64.41.200.243")
        .expect("demo13");
    assert_eq!(attribute(on_demo13, "cvss3_final"), None);

    let ntp = by_rule(sample, "121695");
    let ntp = ntp
        .iter()
        .find(|f| f.asset.as_str() == "host:64.41.200.244")
        .expect("demo14");
    assert_eq!(ntp.title, "NTP \"monlist\"  Feature Denial of Service Vulnerability");
    assert_eq!(ids(ntp), ["CVE-2013-5211", "BID:64692"]);
    assert!(ntp.cvss.is_empty());

    assert_eq!(sample.targets.len(), 7);
    let empty = report("empty.xml");
    assert!(empty.findings.is_empty());
    assert!(empty.targets.is_empty());
}

#[test]
fn corpus_detection() {
    common::check_detection("qualys", FORMAT, |_| true);
    check_detected_exactly(FORMAT, &["qualys"], |_| true);
}
