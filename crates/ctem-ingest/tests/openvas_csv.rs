//! Tests of the OpenVAS / Greenbone CSV parser: fixtures, parity with the
//! XML export, hostile input and the shared corpus.

mod common;
mod host_scan_common;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find};
use ctem_model::{AssetKind, Finding, Severity, SourceStatus};
use host_scan_common::{
    assert_well_formed, attribute, by_rule, check_detected_exactly, fixture, ids, normalized, scopes,
};

const FORMAT: &str = "openvas-csv";

const HEADER: &str = "IP,Hostname,Port,Port Protocol,CVSS,Severity,QoD,Solution Type,NVT Name,Summary,\
                      Specific Result,NVT OID,CVEs\n";

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    host_scan_common::parse(FORMAT, name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    host_scan_common::parse_fixture(FORMAT, name)
}

#[test]
fn detects_fixtures() {
    let parser = find(FORMAT).expect("registered");
    for name in ["empty.csv", "one.csv", "many.csv", "semicolon.csv"] {
        assert_eq!(parser.detect(&fixture(FORMAT, name)), Detection::Certain, "{name}");
    }
    assert_eq!(parser.detect(b"IP,Hostname,Port\n10.0.0.1,a,22\n"), Detection::No);
    assert_eq!(parser.detect(b""), Detection::No);
}

#[test]
fn header_only() {
    let report = parse_fixture("empty.csv");
    assert!(report.findings.is_empty());
    assert!(report.targets.is_empty(), "the export lists no host without results");
}

#[test]
fn one_row_snapshot() {
    let report = parse_fixture("one.csv");
    assert_eq!(report.findings.len(), 1);
    assert_well_formed(&report);
    insta::assert_json_snapshot!("one", normalized(&report));
}

#[test]
fn many_snapshot() {
    let report = parse_fixture("many.csv");
    assert_eq!(report.findings.len(), 5, "the blank rows at the end are skipped");
    assert_well_formed(&report);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn row_fields() {
    let report = parse_fixture("many.csv");
    let php = by_rule(&report, "1.3.6.1.4.1.25623.1.0.812381")[0];
    assert_eq!(php.title, "PHP Multiple Vulnerabilities - Jan18 (Linux)");
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
    assert_eq!(php.location.port, Some(80));
    assert_eq!(
        php.fix.description.as_deref(),
        Some("Upgrade to PHP version 7.2.1 or later.")
    );
    let description = php.description.as_deref().expect("a description");
    assert!(
        description.ends_with("Detection: Checks if a vulnerable version is present on the target host."),
        "the NVT details after the detection method are dropped: {description}"
    );
    assert_eq!(
        php.evidence.as_deref(),
        Some("Installed version: 7.1.10\nFixed version: 7.2.1")
    );
    assert_eq!(attribute(php, "task_name"), Some("Nightly"));

    let timestamps = by_rule(&report, "1.3.6.1.4.1.25623.1.0.80091")[0];
    assert_eq!(timestamps.location.port, None, "a general result has no port");
    assert_eq!(timestamps.severity, Severity::Low);

    let postgres = by_rule(&report, "1.3.6.1.4.1.25623.1.0.100151")[0];
    assert_eq!(postgres.severity, Severity::Info, "Log is information");
    assert_eq!(postgres.asset.as_str(), "host:198.51.100.8");

    let apache = by_rule(&report, "1.3.6.1.4.1.25623.1.0.117232")[0];
    assert_eq!(apache.severity, Severity::Info);
    assert_eq!(apache.source_status, Some(SourceStatus::FalsePositive));

    assert_eq!(
        scopes(&report),
        ["openvas host:198.51.100.7", "openvas host:198.51.100.8"]
    );
    let db = report
        .assets
        .iter()
        .find(|a| a.key.as_str() == "host:198.51.100.8")
        .expect("host");
    assert_eq!(db.identifier_values("fqdn").collect::<Vec<_>>(), ["db01.example.test"]);
    let services = report.assets.iter().filter(|a| a.kind == AssetKind::Service).count();
    assert_eq!(services, 4, "80 on one host, 5432, 9200 and 443 on the other");
}

#[test]
fn csv_and_xml_exports_agree() {
    let csv = parse_fixture("one.csv");
    let xml = host_scan_common::parse_fixture("openvas-xml", "one.xml");
    let (from_csv, from_xml) = (&csv.findings[0], &xml.findings[0]);
    assert_eq!(from_csv.fingerprint(), from_xml.fingerprint());
    assert_eq!(from_csv.title, from_xml.title);
    assert_eq!(from_csv.severity, from_xml.severity);
    assert_eq!(from_csv.vulnerability_ids, from_xml.vulnerability_ids);
    assert_eq!(from_csv.references, from_xml.references);
    assert_eq!(from_csv.description, from_xml.description);
    assert_eq!(from_csv.fix, from_xml.fix);
    assert_eq!(from_csv.evidence, from_xml.evidence);
    assert_eq!(csv.targets, xml.targets);
}

#[test]
fn semicolon_export() {
    let report = parse_fixture("semicolon.csv");
    let ssh = &report.findings[0];
    assert_eq!(ssh.rule_id, "1.3.6.1.4.1.25623.1.0.105611");
    assert_eq!(ssh.severity, Severity::Medium);
    assert_eq!(ssh.location.port, Some(22));
    assert_eq!(ssh.evidence.as_deref(), Some("aes128-cbc\naes256-cbc"));
}

#[test]
fn row_without_ip_names_its_line() {
    let document = format!(
        "{HEADER}192.0.2.1,,22,tcp,4.3,Medium,95,,A,,,1.3.6.1.4.1.25623.1.0.1,\n,,,,5.0,Medium,,,B,,,1.3.6.1.4.1.25623.1.0.2,\n"
    );
    let error = parse("noip.csv", document.as_bytes()).unwrap_err();
    assert_eq!(error.position, Some(Position::LineColumn { line: 3, column: 1 }));
    assert!(error.message.contains("no IP"), "{}", error.message);
}

#[test]
fn truncated_file_names_position() {
    let bytes = fixture(FORMAT, "one.csv");
    let error = parse("cut.csv", &bytes[..bytes.len() / 2]).unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert_eq!(error.position, Some(Position::LineColumn { line: 2, column: 1 }));
}

#[test]
fn invalid_utf8_names_line() {
    let mut bytes = format!("{HEADER}192.0.2.1,,22,tcp,4.3,Medium,95,,Caf").into_bytes();
    bytes.push(0xe9);
    bytes.extend_from_slice(b",,,1.3.6.1.4.1.25623.1.0.1,\n");
    let error = parse("latin1.csv", &bytes).unwrap_err();
    assert_eq!(error.position, Some(Position::LineColumn { line: 2, column: 1 }));
    assert!(
        error.message.contains("column 9 is not valid UTF-8"),
        "{}",
        error.message
    );
}

#[test]
fn other_format_is_rejected() {
    let error = parse("nessus.csv", b"Plugin ID,CVE,Risk,Host\n10180,,None,10.0.0.1\n").unwrap_err();
    assert!(
        error
            .message
            .contains("not an OpenVAS CSV export: expected the columns IP, NVT OID and NVT Name"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("found: plugin id, cve, risk, host"),
        "{}",
        error.message
    );
    let error = parse("empty.csv", b"").unwrap_err();
    assert!(error.message.contains("the file is empty"), "{}", error.message);
    let error = parse("report.json", b"{\"results\": [{\"id\": 1}]}").unwrap_err();
    assert!(error.message.contains("not an OpenVAS CSV export"), "{}", error.message);
}

#[test]
fn huge_row_is_rejected() {
    let mut document = HEADER.as_bytes().to_vec();
    document.extend(std::iter::repeat_n(b'a', 17 * 1024 * 1024));
    let error = parse("huge.csv", &document).unwrap_err();
    assert!(
        error.message.contains("a row is longer than 16 MiB"),
        "{}",
        error.message
    );
    assert_eq!(error.position, Some(Position::LineColumn { line: 2, column: 1 }));
}

#[test]
fn large_export_streams() {
    let count = 20_000;
    let mut document = String::from(HEADER);
    for index in 0..count {
        document.push_str(&format!(
            "10.60.0.{},,{},tcp,5.0,Medium,80,VendorFix,Check {},\"Summary\",\"Result {index}\",1.3.6.1.4.1.25623.1.0.{},CVE-2024-{:05}\n",
            index % 100,
            8000 + index / 100 % 200,
            index % 7,
            200_000 + index % 7,
            20_000 + index % 7
        ));
    }
    let report = parse("big.csv", document.as_bytes()).expect("parses");
    assert_eq!(report.findings.len(), count);
    assert_eq!(report.targets.len(), 100);
}

/// Groups findings by NVT, host and port, as DefectDojo merges only results
/// of one NVT on one endpoint (see the XML parser's tests).
fn group_key(finding: &Finding) -> String {
    format!(
        "{} {} {:?} {:?}",
        finding.rule_id, finding.asset, finding.location.port, finding.location.protocol
    )
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("openvas_csv", FORMAT, group_key);
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

    let many = report("many_vuln.csv");
    assert_well_formed(many);
    let brute = &many.findings[3];
    assert_eq!(
        brute.title,
        "HTTP Brute Force Logins With Default Credentials Reporting"
    );
    assert_eq!(brute.severity, Severity::High);
    assert_eq!(brute.location.port, Some(9200));
    assert_eq!(brute.location.protocol.as_deref(), Some("tcp"));
    let host = many.assets.iter().find(|a| a.key == brute.asset).expect("host");
    assert_eq!(host.identifier_values("hostname").collect::<Vec<_>>(), ["logsrv"]);
    assert!(ids(&many.findings[2]).contains(&"CVE-2011-3389"));

    let one = &report("one_vuln.csv").findings[0];
    assert_eq!(one.title, "SSH Weak Encryption Algorithms Supported");
    assert_eq!(one.severity, Severity::Medium);
    assert_eq!(one.asset.as_str(), "host:10.0.0.8");
    assert_eq!(one.location.port, Some(22));

    let detail = &report("report_detail_v2.csv").findings[0];
    assert_eq!(detail.title, "Microsoft Windows Multiple Vulnerabilities (KB5062557)");
    assert_eq!(detail.severity, Severity::High);
    let cves: Vec<&str> = ids(detail).into_iter().filter(|id| id.starts_with("CVE-")).collect();
    assert_eq!(cves.len(), 93);
    assert_eq!(cves[1], "CVE-2025-48823");
    assert_eq!(attribute(detail, "epss_score"), Some("0.00143"));
}

#[test]
fn corpus_matches_xml_export() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let csv = common::parse_file(FORMAT, &corpus.join("openvas_csv/report_detail_v2.csv")).expect("csv parses");
    let xml = common::parse_file("openvas-xml", &corpus.join("openvas/report_detail_v2.xml")).expect("xml parses");
    let (from_csv, from_xml) = (&csv.findings[0], &xml.findings[0]);
    assert_eq!(from_csv.fingerprint(), from_xml.fingerprint());
    assert_eq!(from_csv.severity, from_xml.severity);
    let sorted = |finding: &Finding| {
        let mut ids = ids(finding);
        ids.sort_unstable();
        ids.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    assert_eq!(
        sorted(from_csv),
        sorted(from_xml),
        "the exports list the CERT advisories in another order"
    );
    assert_eq!(from_csv.fix, from_xml.fix);
}

#[test]
fn corpus_detection() {
    common::check_detection("openvas_csv", FORMAT, |_| true);
    check_detected_exactly(FORMAT, &["openvas_csv"], |_| true);
}
