//! Tests of the Qualys CSV parser: fixtures, parity with the XML report,
//! hostile input and the shared corpus.

mod common;
mod host_scan_common;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find};
use ctem_model::{AssetKind, Cwe, Finding, Severity, SourceStatus};
use host_scan_common::{
    assert_well_formed, attribute, by_rule, check_detected_exactly, fixture, ids, normalized, scopes, vectors,
};

const FORMAT: &str = "qualys-csv";

const HEADER: &str = "\"IP\",\"DNS\",\"QID\",\"Title\",\"Type\",\"Severity\",\"Port\",\"Protocol\",\"Results\"\n";

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    host_scan_common::parse(FORMAT, name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    host_scan_common::parse_fixture(FORMAT, name)
}

#[test]
fn detects_fixtures() {
    let parser = find(FORMAT).expect("registered");
    for name in ["empty.csv", "one.csv", "many.csv", "pci.csv"] {
        assert_eq!(parser.detect(&fixture(FORMAT, name)), Detection::Certain, "{name}");
    }
    assert_eq!(
        parser.detect(b"IP,QID\n1.2.3.4,6\n"),
        Detection::No,
        "a title column is needed"
    );
}

#[test]
fn header_after_preamble_only() {
    let report = parse_fixture("empty.csv");
    assert!(report.findings.is_empty());
    assert!(report.targets.is_empty());
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
    assert_eq!(report.findings.len(), 5, "the repeated header row is skipped");
    assert_well_formed(&report);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn row_fields() {
    let report = parse_fixture("one.csv");
    let ssh = &report.findings[0];
    assert_eq!(ssh.rule_id, "38739");
    assert_eq!(ssh.title, "Deprecated SSH Cryptographic Settings");
    assert_eq!(ssh.severity, Severity::Medium);
    assert_eq!(ids(ssh), ["CVE-2015-4000"]);
    assert_eq!(vectors(ssh), ["CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N"]);
    assert_eq!(ssh.location.port, Some(22));
    assert_eq!(ssh.source_status, Some(SourceStatus::Affected));
    assert_eq!(ssh.references, ["https://www.rfc-editor.org/rfc/rfc9142"]);
    assert_eq!(attribute(ssh, "cvss3_base_score"), Some("5.3"));
    assert_eq!(attribute(ssh, "asset_tags"), Some("Web, Production"));
    assert_eq!(attribute(ssh, "first_found"), Some("04/01/2024 08:00:00"));
    let host = report.assets.iter().find(|a| a.kind == AssetKind::Host).expect("host");
    assert_eq!(host.identifier_values("netbios_name").collect::<Vec<_>>(), ["SHOP01"]);
    assert_eq!(
        host.attributes.get("network").map(String::as_str),
        Some("Global Default Network")
    );
}

#[test]
fn csv_and_xml_exports_agree() {
    let csv = parse_fixture("one.csv");
    let xml = host_scan_common::parse_fixture("qualys-xml", "one.xml");
    let (from_csv, from_xml) = (&csv.findings[0], &xml.findings[0]);
    assert_eq!(from_csv.fingerprint(), from_xml.fingerprint());
    assert_eq!(from_csv.title, from_xml.title);
    assert_eq!(from_csv.severity, from_xml.severity);
    assert_eq!(from_csv.vulnerability_ids, from_xml.vulnerability_ids);
    assert_eq!(from_csv.description, from_xml.description);
    assert_eq!(from_csv.fix, from_xml.fix);
    assert_eq!(from_csv.evidence, from_xml.evidence);
    assert_eq!(csv.targets, xml.targets);
}

#[test]
fn scan_results_export() {
    let report = parse_fixture("many.csv");
    assert_eq!(
        scopes(&report),
        [
            "qualys host:203.0.113.71",
            "qualys host:203.0.113.72",
            "qualys host:203.0.113.73"
        ],
        "a host scanned without findings is a scope"
    );

    let certificate = by_rule(&report, "38173")[0];
    assert_eq!(certificate.severity, Severity::Low);
    assert_eq!(
        vectors(certificate),
        [
            "AV:N/AC:L/Au:N/C:C/I:C/A:N",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N"
        ]
    );
    assert_eq!(attribute(certificate, "cvss_base_score"), Some("9.4"));

    let update = by_rule(&report, "91762")[0];
    assert_eq!(update.severity, Severity::Critical);
    assert_eq!(ids(update), ["CVE-2021-31166", "CVE-2021-28476"]);
    assert_eq!(
        vectors(update)[1],
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "a bare vector of the CVSS3.1 column is v3.1"
    );
    assert_eq!(update.source_status, Some(SourceStatus::Fixed));
    assert_eq!(update.location.port, None);
    assert_eq!(attribute(update, "vendor_references"), Some("KB5003171, KB5003197"));

    let headers = by_rule(&report, "11827");
    assert_eq!(headers.len(), 2, "one finding per host");
    assert_eq!(headers[0].cwes, [Cwe(693)]);
    assert_eq!(attribute(headers[0], "qualys_type"), Some("potential"));

    let dns = by_rule(&report, "6")[0];
    assert_eq!(dns.severity, Severity::Info);
    assert!(dns.fix.is_empty());
    assert_eq!(
        dns.evidence.as_deref(),
        Some("IP address\tHost name\n203.0.113.71\tvpn01.example.test")
    );
}

#[test]
fn pci_export() {
    let report = parse_fixture("pci.csv");
    assert_well_formed(&report);
    let stopped = &report.findings[0];
    assert_eq!(stopped.rule_id, "86476");
    assert_eq!(stopped.title, "Web Server Stopped Responding");
    assert_eq!(stopped.severity, Severity::Medium, "from Q_SEVERITY 3");
    assert_eq!(attribute(stopped, "qualys_type"), Some("potential"));
    assert_eq!(attribute(stopped, "false_positive_status"), Some("Requested"));
    assert_eq!(attribute(stopped, "cvss_base_score"), Some("6.4"));
    assert!(stopped.vulnerability_ids.is_empty(), "a dash names no Bugtraq id");
    assert_eq!(stopped.references, ["https://success.example.test/article/000003057"]);
    assert_eq!(stopped.asset.as_str(), "host:192.0.2.90");
}

#[test]
fn row_without_ip_names_its_line() {
    let document = format!(
        "{HEADER}\"192.0.2.1\",\"\",\"6\",\"DNS Host Name\",\"Ig\",\"1\",\"\",\"\",\"\"\n\"\",\"\",\"7\",\"Other\",\"Ig\",\"1\",\"\",\"\",\"\"\n"
    );
    let error = parse("noip.csv", document.as_bytes()).unwrap_err();
    assert_eq!(error.position, Some(Position::LineColumn { line: 3, column: 1 }));
    assert!(error.message.contains("a QID but no IP"), "{}", error.message);
}

#[test]
fn truncated_file_names_position() {
    let bytes = fixture(FORMAT, "one.csv");
    let error = parse("cut.csv", &bytes[..bytes.len() * 2 / 3]).unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert_eq!(error.position, Some(Position::LineColumn { line: 2, column: 1 }));
}

#[test]
fn invalid_utf8_names_line() {
    let mut bytes = format!("{HEADER}\"192.0.2.1\",\"\",\"6\",\"Caf").into_bytes();
    bytes.push(0xe9);
    bytes.extend_from_slice(b"\",\"Ig\",\"1\",\"\",\"\",\"\"\n");
    let error = parse("latin1.csv", &bytes).unwrap_err();
    assert_eq!(error.position, Some(Position::LineColumn { line: 2, column: 1 }));
    assert!(
        error.message.contains("column 4 is not valid UTF-8"),
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
            .contains("no header row with the columns IP, QID and Title in the first 100 rows"),
        "{}",
        error.message
    );
    let error = parse("empty.csv", b"").unwrap_err();
    assert!(error.message.contains("no header row"), "{}", error.message);
}

#[test]
fn huge_row_is_rejected() {
    let mut document = HEADER.as_bytes().to_vec();
    document.extend_from_slice(b"\"192.0.2.1\",\"\",\"6\",\"x\",\"Ig\",\"1\",\"\",\"\",\"");
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
fn long_preamble_is_rejected() {
    let document = "\"Scan Results\",\"x\"\n".repeat(150);
    let error = parse("preamble.csv", document.as_bytes()).unwrap_err();
    assert!(error.message.contains("first 100 rows"), "{}", error.message);
}

#[test]
fn large_export_streams() {
    let count = 20_000;
    let mut document = String::from("\"Scan Results\",\"05/06/2024\"\n\n");
    document.push_str(HEADER);
    for index in 0..count {
        document.push_str(&format!(
            "\"10.80.0.{}\",\"\",\"{}\",\"Check {}\",\"Vuln\",\"{}\",\"{}\",\"tcp\",\"result {index}\"\n",
            index % 200,
            30_000 + index % 50,
            index % 50,
            1 + index % 5,
            8000 + index / 200 % 100
        ));
    }
    let report = parse("big.csv", document.as_bytes()).expect("parses");
    assert_eq!(report.findings.len(), count);
    assert_eq!(report.targets.len(), 200);
}

/// Groups findings by QID: DefectDojo's Qualys CSV parser merges the rows
/// of one QID on every host into one finding.
fn group_key(finding: &Finding) -> String {
    finding.rule_id.clone()
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("qualys_csv", FORMAT, group_key);
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

    let sample = report("Qualys_Sample_Report.csv");
    assert_eq!(sample.findings.len(), 6, "one finding per row");
    assert_well_formed(sample);
    let aspnet = &sample.findings[0];
    assert_eq!(aspnet.title, "EOL/Obsolete Software: Microsoft ASP.NET 1.0 Detected");
    assert_eq!(aspnet.rule_id, "105971");
    assert_eq!(aspnet.severity, Severity::Critical);
    assert_eq!(vectors(aspnet), ["CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H"]);
    assert_eq!(attribute(aspnet, "cvss3_temporal"), Some("7.4 (E:U/RL:U/RC:C)"));
    assert_eq!(attribute(aspnet, "last_found"), Some("05/25/2021 07:36:58"));
    assert_eq!(attribute(aspnet, "first_found"), Some("05/13/2021 07:08:28"));
    let host = sample.assets.iter().find(|a| a.key == aspnet.asset).expect("host");
    assert_eq!(
        host.identifier_values("fqdn").collect::<Vec<_>>(),
        ["ip-10-98-57-180.eu-west-1.compute.internal"]
    );
    assert_eq!(by_rule(sample, "105971").len(), 4, "one QID on four hosts");
    assert_eq!(ids(&sample.findings[2]).len(), 23);

    let pci = &report("monthly_pci_issue6932.csv").findings[0];
    assert_eq!(pci.title, "Web Server Stopped Responding");
    assert_eq!(pci.severity, Severity::Medium);
    assert_eq!(pci.location.port, Some(80));

    assert!(report("empty.csv").findings.is_empty());
}

#[test]
fn corpus_detection() {
    common::check_detection("qualys_csv", FORMAT, |_| true);
    check_detected_exactly(FORMAT, &["qualys_csv"], |_| true);
}
