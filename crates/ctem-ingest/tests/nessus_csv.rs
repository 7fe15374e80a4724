//! Tests of the Nessus and Tenable CSV parser: fixtures, parity with the
//! `.nessus` export, hostile input and the shared corpus.

mod common;
mod host_scan_common;

use ctem_ingest::{Detection, ParseError, ParsedReport, Position, find};
use ctem_model::{AssetKind, Cwe, Finding, FindingKind, RelationshipKind, Severity, SourceStatus};
use host_scan_common::{
    assert_well_formed, attribute, by_rule, check_detected_exactly, fixture, ids, normalized, scopes, vectors,
};

const FORMAT: &str = "nessus-csv";

const HEADER: &str = "Plugin ID,CVE,CVSS v2.0 Base Score,Risk,Host,Protocol,Port,Name,Synopsis,Description,\
                      Solution,See Also,Plugin Output\n";

fn parse(name: &str, bytes: &[u8]) -> Result<ParsedReport, ParseError> {
    host_scan_common::parse(FORMAT, name, bytes)
}

fn parse_fixture(name: &str) -> ParsedReport {
    host_scan_common::parse_fixture(FORMAT, name)
}

#[test]
fn detects_fixtures() {
    let parser = find(FORMAT).expect("registered");
    for name in ["empty.csv", "one.csv", "many.csv", "tenable_io.csv", "tenable_sc.csv"] {
        assert_eq!(parser.detect(&fixture(FORMAT, name)), Detection::Certain, "{name}");
    }
    assert_eq!(
        parser.detect(b"Plugin ID,Name\n1,a\n"),
        Detection::No,
        "a host column is needed"
    );
    assert_eq!(parser.detect(b"<NessusClientData_v2/>"), Detection::No);
}

#[test]
fn header_only() {
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
    assert_eq!(report.findings.len(), 5, "three CVE rows of one result merge");
    assert_well_formed(&report);
    insta::assert_json_snapshot!("many", normalized(&report));
}

#[test]
fn row_fields() {
    let report = parse_fixture("one.csv");
    let apache = &report.findings[0];
    assert_eq!(apache.tool, "nessus");
    assert_eq!(apache.rule_id, "192711");
    assert_eq!(apache.title, "Apache 2.4.x < 2.4.59 Multiple Vulnerabilities");
    assert_eq!(apache.severity, Severity::High, "Risk wins over Risk Factor");
    assert_eq!(ids(apache), ["CVE-2024-27316", "IAVA:2024-A-0187-S"]);
    assert_eq!(apache.location.port, Some(443));
    assert_eq!(apache.location.protocol.as_deref(), Some("tcp"));

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
    assert_eq!(attribute(apache, "vpr_score"), Some("6.7"));
    assert_eq!(attribute(apache, "epss_score"), Some("0.8921"));
    assert_eq!(attribute(apache, "cvss3_base_score"), Some("7.5"));

    assert_eq!(scopes(&report), ["nessus host:203.0.113.24"]);
    let service = report
        .assets
        .iter()
        .find(|a| a.kind == AssetKind::Service)
        .expect("a service");
    assert_eq!(service.key.as_str(), "service:203.0.113.24:443/tcp");
    assert_eq!(report.relationships[0].kind, RelationshipKind::Hosts);
}

#[test]
fn csv_and_nessus_xml_agree() {
    let csv = parse_fixture("one.csv");
    let xml = host_scan_common::parse_fixture("nessus-xml", "one_item.nessus");
    let (from_csv, from_xml) = (&csv.findings[0], &xml.findings[0]);
    assert_eq!(from_csv.fingerprint(), from_xml.fingerprint());
    assert_eq!(from_csv.title, from_xml.title);
    assert_eq!(from_csv.severity, from_xml.severity);
    assert_eq!(from_csv.tool, from_xml.tool);
    assert_eq!(csv.targets, xml.targets);
}

#[test]
fn cve_rows_merge() {
    let report = parse_fixture("many.csv");
    let eternalblue = by_rule(&report, "97833");
    assert_eq!(eternalblue.len(), 2, "one finding per host");
    assert_eq!(
        ids(eternalblue[0]),
        [
            "CVE-2017-0143",
            "BID:96703",
            "IAVA:2017-A-0065",
            "MSFT:MS17-010",
            "CVE-2017-0144",
            "BID:96704",
            "CVE-2017-0145"
        ]
    );
    assert_eq!(eternalblue[0].cwes, [Cwe(20)]);
    assert_eq!(eternalblue[0].severity, Severity::Critical);
    assert_eq!(eternalblue[0].references.len(), 2, "See Also lists one URL per line");
    assert!(
        eternalblue[0]
            .evidence
            .as_deref()
            .unwrap_or_default()
            .contains("& received")
    );
    assert_eq!(ids(eternalblue[1]), ["CVE-2017-0143", "BID:96703"]);
    assert_eq!(eternalblue[1].asset.as_str(), "host:10.30.1.11");
}

#[test]
fn kinds_and_titles() {
    let report = parse_fixture("many.csv");
    let scanners = by_rule(&report, "11219");
    assert_eq!(scanners.len(), 2, "one finding per port");
    assert_eq!(scanners[0].kind, FindingKind::ExposedService);
    assert_eq!(scanners[0].title, "Open port: 445/tcp");
    assert_eq!(scanners[0].severity, Severity::Info, "Risk None is information");
    assert_ne!(scanners[0].fingerprint(), scanners[1].fingerprint());

    let info = by_rule(&report, "19506")[0];
    assert_eq!(info.kind, FindingKind::Vulnerability);
    assert_eq!(info.location.port, None, "port 0 is no location");
    assert!(info.fix.is_empty(), "n/a is no solution");
}

#[test]
fn tenable_io_export() {
    let report = parse_fixture("tenable_io.csv");
    assert_well_formed(&report);
    assert_eq!(report.findings.len(), 2);
    let mariadb = &report.findings[0];
    assert_eq!(
        mariadb.asset.as_str(),
        "host:10.20.0.5",
        "IP Address wins over the Host name"
    );
    assert_eq!(ids(mariadb), ["CVE-2021-46666", "CVE-2022-27380"]);
    assert_eq!(
        vectors(mariadb),
        [
            "AV:N/AC:L/Au:N/C:N/I:N/A:P",
            "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"
        ],
        "a bare v3 vector gets the CVSS:3.0 prefix"
    );
    assert_eq!(mariadb.severity, Severity::High);
    assert_eq!(mariadb.source_status, Some(SourceStatus::Affected));
    assert_eq!(mariadb.location.port, None);
    assert_eq!(
        attribute(mariadb, "plugin_family"),
        Some("Amazon Linux Local Security Checks")
    );

    let splunk = &report.findings[1];
    assert_eq!(splunk.source_status, Some(SourceStatus::Fixed));
    assert_eq!(splunk.severity, Severity::Medium);
    assert_eq!(vectors(splunk)[1], "CVSS:3.0/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H");

    let app02 = report
        .assets
        .iter()
        .find(|a| a.key.as_str() == "host:10.20.0.6")
        .expect("host");
    assert_eq!(app02.name, "app02.corp.example.test");
    assert_eq!(
        app02.identifier_values("fqdn").collect::<Vec<_>>(),
        ["app02.corp.example.test"]
    );
    assert_eq!(app02.identifier_values("netbios_name").collect::<Vec<_>>(), ["APP02"]);
    assert_eq!(
        app02.attributes.get("os").map(String::as_str),
        Some("Windows Server 2019")
    );
    assert_eq!(
        app02.attributes.get("system_type").map(String::as_str),
        Some("general-purpose")
    );
}

#[test]
fn tenable_sc_export() {
    let report = parse_fixture("tenable_sc.csv");
    assert_well_formed(&report);
    let weak_hash = by_rule(&report, "35291")[0];
    assert_eq!(weak_hash.title, "SSL Certificate Signed Using Weak Hashing Algorithm");
    assert_eq!(weak_hash.severity, Severity::Medium);
    assert_eq!(
        ids(weak_hash),
        ["CVE-2004-2761", "BID:11849", "BID:33065", "CERT:836068"]
    );
    assert_eq!(weak_hash.cwes, [Cwe(310)]);
    assert_eq!(
        vectors(weak_hash),
        [
            "AV:N/AC:L/Au:N/C:N/I:P/A:N/E:POC/RL:OF/RC:C",
            "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N/E:P/RL:O/RC:C"
        ]
    );
    assert!(
        weak_hash
            .evidence
            .as_deref()
            .unwrap_or_default()
            .starts_with("The following certificates"),
        "the Plugin Output label is dropped"
    );
    assert!(
        attribute(weak_hash, "cpe")
            .unwrap_or_default()
            .starts_with("cpe:/a:ietf:md5")
    );
    assert_eq!(attribute(weak_hash, "exploit_available"), Some("Yes"));
    let host = report
        .assets
        .iter()
        .find(|a| a.key.as_str() == "host:10.1.1.1")
        .expect("host");
    assert_eq!(host.identifier_values("mac").collect::<Vec<_>>(), ["00:50:56:aa:01:10"]);
    assert_eq!(
        host.identifier_values("fqdn").collect::<Vec<_>>(),
        ["vpn.corp.example.test"]
    );

    let rc4 = by_rule(&report, "65821")[0];
    assert_eq!(ids(rc4), ["CVE-2013-2566", "CVE-2015-2808", "BID:58796", "BID:73684"]);
}

#[test]
fn row_without_plugin_id_names_its_line() {
    let document = format!("{HEADER}10180,,,None,192.0.2.1,tcp,0,Ping,,,,,\n,,,None,192.0.2.1,tcp,0,Orphan,,,,,\n");
    let error = parse("noid.csv", document.as_bytes()).unwrap_err();
    assert_eq!(error.position, Some(Position::LineColumn { line: 3, column: 1 }));
    assert!(error.message.contains("no Plugin ID"), "{}", error.message);
    let document = format!("{HEADER}10180,,,None,,tcp,0,Ping,,,,,\n");
    let error = parse("nohost.csv", document.as_bytes()).unwrap_err();
    assert!(error.message.contains("no Host or IP Address"), "{}", error.message);
}

#[test]
fn truncated_file_names_position() {
    let bytes = fixture(FORMAT, "many.csv");
    let error = parse("cut.csv", &bytes[..bytes.len() / 3]).unwrap_err();
    assert_eq!(error.format, FORMAT);
    assert!(error.message.contains("truncated"), "{}", error.message);
    assert!(matches!(error.position, Some(Position::LineColumn { line, .. }) if line > 1));
}

#[test]
fn invalid_utf8_names_line() {
    let mut bytes = format!("{HEADER}10180,,,None,192.0.2.1,tcp,0,Ping,,Caf").into_bytes();
    bytes.push(0xe9);
    bytes.extend_from_slice(b",,,\n");
    let error = parse("latin1.csv", &bytes).unwrap_err();
    assert_eq!(error.position, Some(Position::LineColumn { line: 2, column: 1 }));
    assert!(
        error.message.contains("column 10 is not valid UTF-8"),
        "{}",
        error.message
    );
}

#[test]
fn other_format_is_rejected() {
    let error = parse("openvas.csv", b"IP,Hostname,NVT OID,NVT Name\n10.0.0.1,,1.3.6,x\n").unwrap_err();
    assert!(error.message.contains("not a Nessus CSV export"), "{}", error.message);
    assert!(
        error.message.contains("found: ip, hostname, nvt oid, nvt name"),
        "{}",
        error.message
    );
    let error = parse("empty.csv", b"").unwrap_err();
    assert!(error.message.contains("the file is empty"), "{}", error.message);
    let error = parse("scan.nessus", b"<NessusClientData_v2><Report/></NessusClientData_v2>").unwrap_err();
    assert!(error.message.contains("not a Nessus CSV export"), "{}", error.message);
}

#[test]
fn huge_row_is_rejected() {
    let mut document = HEADER.as_bytes().to_vec();
    document.extend_from_slice(b"10180,,,None,192.0.2.1,tcp,0,Ping,,\"");
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
    let hosts = 200;
    let plugins = 100;
    let mut document = String::from(HEADER);
    for host in 0..hosts {
        for plugin in 0..plugins {
            document.push_str(&format!(
                "{},CVE-2024-{:05},5.0,Medium,10.40.{}.{},tcp,{},Plugin {plugin},Synopsis,\"Description\",Fix,,Output\n",
                100_000 + plugin,
                10_000 + plugin,
                host / 256,
                host % 256,
                8000 + plugin % 10
            ));
        }
    }
    let report = parse("big.csv", document.as_bytes()).expect("parses");
    assert_eq!(report.findings.len(), hosts * plugins);
    assert_eq!(report.targets.len(), hosts);
}

/// Groups findings by plugin, host and port: DefectDojo's Tenable CSV parser
/// merges the rows of one title, severity, host, port and synopsis (the
/// rows of one result's CVEs), so its counts equal one group per ctem
/// finding.
fn group_key(finding: &Finding) -> String {
    format!(
        "{} {} {:?} {:?}",
        finding.rule_id, finding.asset, finding.location.port, finding.location.protocol
    )
}

#[test]
fn corpus_conformance() {
    let reports = common::check_folder("nessus_csv", FORMAT, group_key);
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

    let template = report("nessus-template.csv");
    assert_well_formed(template);
    let sweet32 = &template.findings[0];
    assert_eq!(sweet32.title, "SSL Medium Strength Cipher Suites Supported (SWEET32)");
    assert_eq!(sweet32.severity, Severity::High);
    assert_eq!(ids(sweet32), ["CVE-2016-2183"]);
    assert!(sweet32.cwes.is_empty());
    // DefectDojo reads the EPSS score 0.3833 from the cell "3833": this
    // export lost its decimal points in a spreadsheet (CVSS v2 "50", VPR
    // "51"), so ctem keeps no score that is out of its range.
    assert_eq!(attribute(sweet32, "epss_score"), None);
    assert_eq!(attribute(sweet32, "cvss_base_score"), None);
    let trace = &template.findings[1];
    assert_eq!(trace.title, "HTTP TRACE / TRACK Methods Allowed");
    assert_eq!(trace.severity, Severity::Medium);
    assert_eq!(
        ids(trace),
        [
            "CVE-2003-1567",
            "BID:9506",
            "BID:9561",
            "BID:11604",
            "BID:33374",
            "BID:37995",
            "CERT:288308",
            "CERT:867593"
        ]
    );
    assert_eq!(trace.cwes, [Cwe(16), Cwe(200)]);
    let php = &template.findings[3];
    assert_eq!(php.severity, Severity::Critical);
    assert_eq!(attribute(php, "cisa_known_exploited"), Some("2024/07/03"));
    assert_eq!(ids(php), ["CVE-2024-4577", "IAVA:2024-A-0330-S"]);

    let legacy = report("nessus_many_vuln.csv");
    assert_eq!(legacy.findings.len(), 4, "the rows of commas are skipped");
    assert!(legacy.findings.iter().all(|f| f.severity == Severity::Medium));
    let weak_hash = &legacy.findings[0];
    assert_eq!(weak_hash.asset.as_str(), "host:10.1.1.1");
    assert!(vectors(weak_hash).contains(&"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N/E:P/RL:O/RC:C".to_string()));
    assert!(
        attribute(weak_hash, "cpe")
            .unwrap_or_default()
            .contains("cpe:/a:ietf:md5")
    );
    assert_eq!(ids(weak_hash)[0], "CVE-2004-2761");
    assert_eq!(weak_hash.cwes, [Cwe(310)], "from Cross References CWE #310");
    let rc4: Vec<&str> = ids(&legacy.findings[3])
        .into_iter()
        .filter(|id| id.starts_with("CVE-"))
        .collect();
    assert_eq!(rc4, ["CVE-2013-2566", "CVE-2015-2808"]);

    let tenable = report("tenable_many_vuln.csv");
    assert_well_formed(tenable);
    let kernel = &tenable.findings[0];
    assert_eq!(kernel.title, "Amazon Linux 2 : kernel (ALAS-2023-2050)");
    assert_eq!(kernel.severity, Severity::High);
    assert_eq!(kernel.location.port, None);
    assert_eq!(ids(kernel), ["CVE-2023-32233"]);
    let host = tenable.assets.iter().find(|a| a.key == kernel.asset).expect("host");
    assert_eq!(
        host.identifier_values("fqdn").collect::<Vec<_>>(),
        ["ip-127-0-0-1.us-west-2.compute.internal"]
    );
    assert_eq!(
        by_rule(tenable, "176703")[0].vulnerability_ids.len(),
        10,
        "ten CVE rows merge"
    );
    assert_eq!(tenable.findings.len(), 9);
}

#[test]
fn corpus_detection() {
    common::check_detection("nessus_csv", FORMAT, |_| true);
    check_detected_exactly(FORMAT, &["nessus_csv"], |_| true);
}
