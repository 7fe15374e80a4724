//! Tests of the OpenVAS / Greenbone XML parser: fixtures, hostile input and
//! the shared corpus.

mod common;
mod host_scan_common;

use std::time::{Duration, Instant};

use ctem_ingest::{Detection, Position, find};
use ctem_model::{AssetKind, Finding, FindingKind, RelationshipKind, Severity, SourceStatus};
use host_scan_common::{
    assert_well_formed, attribute, billion_laughs, by_rule, check_detected_exactly, fixture, ids, normalized, scopes,
    vectors,
};

const FORMAT: &str = "openvas-xml";

fn parse(name: &str, bytes: &[u8]) -> Result<ctem_ingest::ParsedReport, ctem_ingest::ParseError> {
    host_scan_common::parse(FORMAT, name, bytes)
}

fn parse_fixture(name: &str) -> ctem_ingest::ParsedReport {
    host_scan_common::parse_fixture(FORMAT, name)
}

/// Builds a GMP report around the given `<result>` elements.
fn report_with(results: &str) -> String {
    format!(
        "<report id=\"r\" format_id=\"a994b278-1f62-11e1-96ac-406186ea4fc5\"><report id=\"r\">\
         <gmp><version>22.4</version></gmp><results>{results}</results></report></report>"
    )
}

#[test]
fn detects_fixtures() {
    let parser = find(FORMAT).expect("registered");
    for name in ["empty.xml", "one.xml", "many.xml", "omp.xml"] {
        assert_eq!(parser.detect(&fixture(FORMAT, name)), Detection::Certain, "{name}");
    }
    assert_eq!(parser.detect(b"<?xml version=\"1.0\"?><nmaprun/>"), Detection::No);
    assert_eq!(
        parser.detect(b"<report><title>Quarterly</title></report>"),
        Detection::No,
        "a <report> root alone is not enough"
    );
}

#[test]
fn host_without_results() {
    let report = parse_fixture("empty.xml");
    assert!(report.findings.is_empty());
    assert_eq!(scopes(&report), ["openvas host:192.0.2.30"]);
    let host = &report.assets[0];
    assert_eq!(host.kind, AssetKind::Host);
    assert_eq!(host.name, "mail01.example.test");
    assert_eq!(
        host.attributes.get("os").map(String::as_str),
        Some("Debian GNU/Linux 12")
    );
}

#[test]
fn one_result_snapshot() {
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
fn result_fields() {
    let report = parse_fixture("one.xml");
    let tls = &report.findings[0];
    assert_eq!(tls.tool, "openvas");
    assert_eq!(tls.rule_id, "1.3.6.1.4.1.25623.1.0.117274");
    assert_eq!(tls.kind, FindingKind::Vulnerability);
    assert_eq!(tls.title, "SSL/TLS: Deprecated TLSv1.0 and TLSv1.1 Protocol Detection");
    assert_eq!(tls.severity, Severity::Medium);
    assert_eq!(
        ids(tls),
        [
            "CVE-2011-3389",
            "CVE-2015-0204",
            "WID-SEC-2023-1435",
            "DFN-CERT-2020-0111"
        ]
    );
    assert_eq!(vectors(tls), ["CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N"]);
    assert_eq!(tls.references, ["https://ssl-config.mozilla.org/"]);
    assert_eq!(tls.location.port, Some(443));
    assert_eq!(tls.location.protocol.as_deref(), Some("tcp"));
    assert_eq!(
        tls.fix.description.as_deref(),
        Some(
            "It is recommended to disable the deprecated TLSv1.0 and/or TLSv1.1 protocols in favor of the TLSv1.2+ protocols."
        )
    );
    let description = tls.description.as_deref().expect("a description");
    assert!(
        description.starts_with("It was possible to detect the usage of the deprecated TLSv1.0 and/or TLSv1.1 protocol on this system.\n\nImpact: An attacker"),
        "{description}"
    );
    assert!(
        description.contains("\n\n- CVE-2011-3389: Browser Exploit"),
        "{description}"
    );
    assert!(
        tls.evidence
            .as_deref()
            .unwrap_or_default()
            .starts_with("In addition to TLSv1.2+")
    );
    assert_eq!(attribute(tls, "qod"), Some("98"));
    assert_eq!(attribute(tls, "solution_type"), Some("Mitigation"));
    assert_eq!(attribute(tls, "nvt_family"), Some("SSL and TLS"));
    assert_eq!(
        attribute(tls, "result_id"),
        Some("0f9e8d7c-6b5a-4e3d-9c2b-1a0f9e8d7c6b")
    );
    assert_eq!(tls.asset.as_str(), "host:192.0.2.20");

    let service = report
        .assets
        .iter()
        .find(|a| a.kind == AssetKind::Service)
        .expect("a service");
    assert_eq!(service.key.as_str(), "service:192.0.2.20:443/tcp");
    assert_eq!(report.relationships[0].kind, RelationshipKind::Hosts);
    let host = report
        .assets
        .iter()
        .find(|a| a.kind == AssetKind::Host)
        .expect("a host");
    assert_eq!(
        host.identifier_values("fqdn").collect::<Vec<_>>(),
        ["web01.example.test"]
    );
}

#[test]
fn threats_and_scores() {
    let report = parse_fixture("many.xml");
    let log = by_rule(&report, "1.3.6.1.4.1.25623.1.0.105937")[0];
    assert_eq!(log.severity, Severity::Info, "Log results are information");
    assert_eq!(log.location.port, None, "general/tcp is no port");
    assert_eq!(attribute(log, "port"), Some("general/tcp"));
    assert!(
        log.evidence
            .as_deref()
            .unwrap_or_default()
            .ends_with("debian_linux:12 & more")
    );

    let dh = by_rule(&report, "1.3.6.1.4.1.25623.1.0.106223")[0];
    assert_eq!(
        dh.severity,
        Severity::Medium,
        "without a threat, the score 4.0 rates it"
    );
    assert!(
        dh.description
            .as_deref()
            .unwrap_or_default()
            .contains("(key size < 2048)")
    );
    assert_eq!(
        dh.title,
        "SSL/TLS: Diffie-Hellman Key Exchange Insufficient DH Group Strength Vulnerability"
    );

    let overridden = by_rule(&report, "1.3.6.1.4.1.25623.1.0.117232")[0];
    assert_eq!(overridden.severity, Severity::Info);
    assert_eq!(overridden.source_status, Some(SourceStatus::FalsePositive));
    assert_eq!(attribute(overridden, "original_threat"), Some("High"));
}

#[test]
fn one_finding_per_host_and_port() {
    let report = parse_fixture("many.xml");
    let ssh = by_rule(&report, "1.3.6.1.4.1.25623.1.0.813863");
    assert_eq!(ssh.len(), 2);
    assert_ne!(ssh[0].fingerprint(), ssh[1].fingerprint());
    assert_eq!(
        ssh[0].title, "OpenSSH < 7.7 User Enumeration Vulnerability",
        "wrapped names are joined"
    );
    assert_eq!(ids(ssh[0]), ["CVE-2018-15473", "BID:105140"]);
    assert_eq!(
        vectors(ssh[0]),
        ["AV:N/AC:L/Au:N/C:P/I:N/A:N"],
        "a bare tag vector is CVSS v2"
    );
    assert_eq!(
        ssh[0].fix.description.as_deref(),
        Some("Update to version 7.8 or later.")
    );
    assert_eq!(ssh[1].asset.as_str(), "host:192.0.2.21");
}

#[test]
fn nested_nvts_are_not_the_result() {
    let report = parse_fixture("many.xml");
    assert!(
        report
            .findings
            .iter()
            .all(|f| !f.title.contains("copy") && !f.title.contains("override's")),
        "the NVTs of notes and overrides do not replace the result's"
    );
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.rule_id != "1.3.6.1.4.1.25623.1.0.999999"),
        "the override's NVT is no finding"
    );
}

#[test]
fn report_hosts_declare_scopes() {
    let report = parse_fixture("many.xml");
    assert_eq!(
        scopes(&report),
        [
            "openvas host:192.0.2.20",
            "openvas host:192.0.2.21",
            "openvas host:192.0.2.22"
        ]
    );
    let printer = report
        .assets
        .iter()
        .find(|a| a.key.as_str() == "host:192.0.2.22")
        .expect("the host without results");
    assert_eq!(printer.name, "printer.example.test");
    assert_eq!(printer.attributes.get("os").map(String::as_str), Some("HP JetDirect"));
}

#[test]
fn omp_report() {
    let report = parse_fixture("omp.xml");
    assert_well_formed(&report);
    let php = by_rule(&report, "1.3.6.1.4.1.25623.1.0.812381")[0];
    assert_eq!(php.severity, Severity::High);
    assert_eq!(
        ids(php),
        [
            "CVE-2018-5711",
            "CVE-2018-5712",
            "BID:102742",
            "BID:102743",
            "CB-K18/0125",
            "DFN-CERT-2018-0178"
        ]
    );
    assert_eq!(
        php.references,
        [
            "http://php.net/ChangeLog-7.php",
            "https://bugs.php.net/bug.php?id=75571"
        ]
    );
    let timestamps = by_rule(&report, "1.3.6.1.4.1.25623.1.0.80091")[0];
    assert!(timestamps.vulnerability_ids.is_empty(), "NOCVE and NOBID name no ids");
    assert_eq!(timestamps.severity, Severity::Low);
    assert_eq!(scopes(&report), ["openvas host:198.51.100.7"]);
}

#[test]
fn long_result_is_cut() {
    let output = "x".repeat(300 * 1024);
    let result = format!(
        "<result id=\"1\"><host>192.0.2.9</host><port>80/tcp</port><nvt oid=\"1.3.6.1.4.1.25623.1.0.1\">\
         <name>Big</name></nvt><threat>Low</threat><description>{output}</description></result>"
    );
    let report = parse("long.xml", report_with(&result).as_bytes()).expect("parses");
    let evidence = report.findings[0].evidence.as_deref().expect("evidence");
    assert!(evidence.len() < 4200, "{}", evidence.len());
    assert!(
        evidence.ends_with(&format!("[truncated: 4096 of {} bytes kept]", output.len())),
        "{}",
        &evidence[4000..]
    );
}

#[test]
fn result_without_host_is_rejected() {
    let result =
        "<result id=\"r1\"><port>80/tcp</port><nvt oid=\"1.3.6.1.4.1.25623.1.0.1\"><name>x</name></nvt></result>";
    let error = parse("nohost.xml", report_with(result).as_bytes()).unwrap_err();
    assert!(
        error.message.contains("the <result> r1 has no <host>"),
        "{}",
        error.message
    );
    assert!(matches!(error.position, Some(Position::Byte(_))));
}

#[test]
fn billion_laughs_is_not_expanded() {
    let body = report_with(
        "<result id=\"1\"><host>192.0.2.9</host><port>80/tcp</port><nvt oid=\"1.3.6.1.4.1.25623.1.0.1\">\
         <name>&lol9;</name></nvt><threat>Low</threat><description>&lol9;</description></result>",
    );
    let document = billion_laughs("report", &body);
    let started = Instant::now();
    let report = parse("lol.xml", document.as_bytes()).expect("parses without expanding");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(report.findings[0].title, "&lol9;");
    assert_eq!(report.findings[0].evidence.as_deref(), Some("&lol9;"));
}

#[test]
fn truncated_file_names_position() {
    let bytes = fixture(FORMAT, "many.xml");
    for cut in [bytes.len() / 3, bytes.len() / 2, bytes.len() - 20] {
        let error = parse("cut.xml", &bytes[..cut]).unwrap_err();
        assert_eq!(error.format, FORMAT);
        assert!(error.message.contains("truncated"), "{}", error.message);
        assert!(matches!(error.position, Some(Position::Byte(offset)) if offset > 0));
    }
}

#[test]
fn invalid_syntax_is_rejected() {
    let error = parse("bad.xml", b"<report><report><results></result></report></report>").unwrap_err();
    assert!(error.message.contains("invalid XML"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::Byte(_))));
}

#[test]
fn invalid_utf8_is_rejected() {
    let document = report_with(
        "<result id=\"1\"><host>192.0.2.9</host><nvt oid=\"1.3.6.1.4.1.25623.1.0.1\"><name>x</name></nvt>\
         <description>caf\u{e9}</description></result>",
    );
    let bytes = document.replace('\u{e9}', "\u{1}").into_bytes();
    let bytes: Vec<u8> = bytes.into_iter().map(|b| if b == 1 { 0xff } else { b }).collect();
    let error = parse("latin1.xml", &bytes).unwrap_err();
    assert!(error.message.contains("invalid text"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::Byte(offset)) if offset > 100));
}

#[test]
fn other_format_is_rejected() {
    let error = parse("nmap.xml", b"<?xml version=\"1.0\"?><nmaprun></nmaprun>").unwrap_err();
    assert!(
        error
            .message
            .contains("expected the root element <report>, found <nmaprun>"),
        "{}",
        error.message
    );
    let error = parse("other.xml", b"<report><title>Quarterly</title></report>").unwrap_err();
    assert!(error.message.contains("no inner <report> element"), "{}", error.message);
    let error = parse("blank.xml", b"  ").unwrap_err();
    assert!(error.message.contains("no XML element found"), "{}", error.message);
}

#[test]
fn deep_nesting_is_rejected() {
    let document = format!("<report><report>{}", "<x>".repeat(100_000));
    let error = parse("deep.xml", document.as_bytes()).unwrap_err();
    assert!(
        error.message.contains("nested more than 256 levels"),
        "{}",
        error.message
    );
}

#[test]
fn large_report_streams() {
    let count = 20_000;
    let mut results = String::new();
    for index in 0..count {
        results.push_str(&format!(
            "<result id=\"{index}\"><host>10.50.0.{}</host><port>{}/tcp</port>\
             <nvt oid=\"1.3.6.1.4.1.25623.1.0.{}\"><name>Check {}</name><refs><ref type=\"cve\" id=\"CVE-2024-{:05}\"/></refs></nvt>\
             <threat>Medium</threat><severity>5.0</severity><description>seen</description></result>",
            index % 80,
            8000 + index / 80 % 5,
            100_000 + index % 40,
            index % 40,
            10_000 + index % 40
        ));
    }
    let report = parse("big.xml", report_with(&results).as_bytes()).expect("parses");
    assert_eq!(report.findings.len(), count);
    assert_eq!(report.targets.len(), 80);
}

/// Groups findings by NVT, host and port: DefectDojo's OpenVAS parser merges
/// only results of one NVT on one endpoint (host, port and protocol), so
/// its counts equal one group per ctem finding.
fn group_key(finding: &Finding) -> String {
    format!(
        "{} {} {:?} {:?}",
        finding.rule_id, finding.asset, finding.location.port, finding.location.protocol
    )
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("openvas", FORMAT, group_key);
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

    let many = report("many_vuln.xml");
    assert_eq!(many.findings.len(), 44, "one finding per result");
    assert_well_formed(many);
    let rexec = &many.findings[0];
    assert_eq!(
        rexec.asset.as_str(),
        "host:192.168.1.1001",
        "the sample's invalid address is kept as the key"
    );
    assert_eq!(rexec.location.port, Some(512));
    assert_eq!(rexec.location.protocol.as_deref(), Some("tcp"));
    assert_eq!(
        rexec.title, "The rexec service is running",
        "the NVT name wins over the result's name"
    );
    assert_eq!(rexec.severity, Severity::High);
    assert_eq!(ids(rexec), ["CVE-1999-0618"]);
    let unrated: Vec<_> = many
        .findings
        .iter()
        .filter(|f| attribute(f, "threat").is_none())
        .collect();
    assert_eq!(unrated.len(), 2, "two results have an empty threat");
    assert!(
        unrated.iter().all(|f| f.severity == Severity::Medium),
        "rated by their score 4.0"
    );

    let detail = &report("report_detail_v2.xml").findings[0];
    assert_eq!(detail.title, "Microsoft Windows Multiple Vulnerabilities (KB5062557)");
    assert_eq!(
        detail.severity,
        Severity::High,
        "the threat High wins over the score 9.8"
    );
    assert_eq!(detail.rule_id, "1.3.6.1.4.1.25623.1.0.836484");
    let cves: Vec<&str> = ids(detail).into_iter().filter(|id| id.starts_with("CVE-")).collect();
    assert_eq!(cves.len(), 93);
    assert_eq!(cves[1], "CVE-2025-48823");
    assert_eq!(vectors(detail), ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"]);
    assert_eq!(detail.location.port, Some(42));
    assert_eq!(attribute(detail, "epss_score"), Some("0.00143"));
    assert_eq!(attribute(detail, "epss_percentile"), Some("0.35177"));
    let host = &report("report_detail_v2.xml").assets[0];
    assert_eq!(host.identifier_values("hostname").collect::<Vec<_>>(), ["server99"]);

    assert!(report("no_vuln.xml").findings.is_empty());
}

#[test]
fn corpus_detection() {
    common::check_detection("openvas", FORMAT, |_| true);
    check_detected_exactly(FORMAT, &["openvas"], |_| true);
}
