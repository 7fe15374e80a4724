//! Qualys VM CSV exports: scan results, vulnerability reports and PCI
//! reports.
//!
//! # Reads
//!
//! CSV exports of Qualys VM reports, one row per detection. Scan result
//! exports start with lines of report metadata before the header row. The
//! header row is the first of the first 100 rows with the columns `IP`,
//! `QID` and `Title` (PCI reports: `VULN TITLE`). Known columns:
//! `IP`, `DNS` (or `HOSTNAME`), `NetBIOS`, `OS` (or `OPERATING SYSTEM`),
//! `Tracking Method`, `QID`, `Title`, `Type`, `Severity`, `Port`,
//! `Protocol`, `FQDN`, `SSL`, `CVE ID` (or `CVEID`), `Vendor Reference`,
//! `Bugtraq ID`, `CVSS Base`, `CVSS Temporal`, `CVSS3 Base` (or `CVSS3.1
//! Base`), `CVSS3 Temporal`, `Threat`, `Impact`, `Solution`, `Results`,
//! `Vuln Status`, the detection dates, `PCI Vuln` (or `IS_PCI`),
//! `Category`, and PCI reports' `Q_SEVERITY` and `FALSE POSITIVE STATUS`.
//! Columns are found by name, case-insensitively.
//!
//! # Field mapping
//!
//! The mapping is that of the `qualys-xml` parser, so that both exports of
//! one scan share fingerprints:
//!
//! - `QID` -> `rule_id`; `Title` -> `title`; kind `Vulnerability`.
//! - The Qualys severity level 1 to 5 (`Severity`, or `Q_SEVERITY` in PCI
//!   reports, whose `SEVERITY` is a PCI rating word that is used only
//!   without a level) -> `severity`: 1 `Info`, 2 `Low`, 3 `Medium`, 4
//!   `High`, 5 `Critical`; else the highest CVSS vector.
//! - `CVE ID` -> vulnerability ids, `Bugtraq ID` as `BID:<n>`; the vectors
//!   of `CVSS Base` (v2) and `CVSS3 Base` (v3, CVSS 3.0 unless the column
//!   is `CVSS3.1 Base`) -> `cvss`.
//! - `Threat` and `Impact` -> `description`, `Solution` ->
//!   `fix.description`, both from HTML to plain text; their links ->
//!   `references`, and links to a CWE page -> `cwes`; `Results` -> `evidence`, cut to 4 KiB.
//! - `Port` and `Protocol` -> `location`; `Vuln Status` -> `source_status`
//!   (`Fixed`; `New`, `Active` and `Re-Opened` as `Affected`).
//! - The detection type, category, scores, PCI flag, vendor references,
//!   exploitability and malware, ticket state, FQDN, SSL, instance, false
//!   positive status and the detection dates -> `attributes`.
//! - Assets: a host per `IP`, with its DNS name, NetBIOS name and OS; a
//!   service per port with a finding, which the host `Hosts`.
//!
//! # Scope target
//!
//! `host:<ip>` for each host with a row, also a row without a QID (a host
//! scanned without findings).
//!
//! # Fingerprint
//!
//! The tool `qualys`, the QID, the host, and the port and protocol.
//!
//! # Not read yet
//!
//! The report metadata before the header row, `Associated Tags` beyond
//! their text, and the `OS CPE` column.
//!
//! # Reference
//!
//! Qualys VM reports, "Report formats" and "CSV report":
//! <https://docs.qualys.com/en/vm/latest/reports/report_formats.htm>.

use std::io::BufRead;

use ctem_model::{Finding, FindingKind, Severity};

use super::host_scan_shared::hosts::{HostAssets, HostFacts, HostScope};
use super::host_scan_shared::qualys::{self, DEFAULT_CVSS3_VERSION, QidTexts, TOOL};
use super::host_scan_shared::table::{self, Columns, CsvRows, Row};
use super::host_scan_shared::{self as shared};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "qualys-csv";

/// How many rows of report metadata may come before the header row.
const MAX_PREAMBLE_ROWS: usize = 100;

const QID: &[&str] = &["qid"];
const IP: &[&str] = &["ip"];
const TITLE: &[&str] = &["title", "vuln title"];

/// The Qualys CSV parser.
pub struct QualysCsv;

impl Parser for QualysCsv {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Qualys VM CSV",
            tool: "Qualys Vulnerability Management",
            versions: "scan result, vulnerability and PCI report CSV exports",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let is_header = |record: &Vec<String>| {
            let has = |names: &[&str]| names.iter().any(|name| record.iter().any(|cell| cell == name));
            has(QID) && has(IP) && has(TITLE)
        };
        if table::head_records(head, MAX_PREAMBLE_ROWS).iter().any(is_header) {
            Detection::Certain
        } else {
            Detection::No
        }
    }

    fn parse(
        &self,
        context: &ParseContext<'_>,
        reader: &mut dyn BufRead,
        sink: &mut dyn Sink,
    ) -> Result<(), ParseError> {
        let mut rows = CsvRows::new(context.path, FORMAT_ID, reader)?;
        let columns = find_header(context, &mut rows)?;
        rows.set_width(columns.len());

        let mut hosts = HostAssets::new(TOOL);
        while let Some(row) = rows.next_row()? {
            let value = |names: &[&str]| columns.value(&row, names);
            // Exports of several sections repeat the header row.
            if row.is_blank() || value(QID).is_some_and(|qid| qid.eq_ignore_ascii_case("qid")) {
                continue;
            }
            let Some(scope) = hosts.host(sink, &host_facts(&columns, &row)) else {
                if value(QID).is_some() {
                    return Err(rows.error(row.line, "the row has a QID but no IP: every detection names its host"));
                }
                // A row without an IP and a QID is report metadata after the detections.
                continue;
            };
            let Some(qid) = value(QID) else {
                // A host scanned without findings.
                continue;
            };

            let port = port(&columns, &row);
            if let Some((number, protocol)) = &port {
                hosts.service(sink, &scope, *number, protocol, None);
            }
            sink.finding(finding(&columns, &row, qid, &scope, port));
        }
        Ok(())
    }
}

/// Reads rows up to the header row and returns its columns.
fn find_header(context: &ParseContext<'_>, rows: &mut CsvRows<'_>) -> Result<Columns, ParseError> {
    for _ in 0..MAX_PREAMBLE_ROWS {
        let Some(row) = rows.next_row()? else {
            break;
        };
        let columns = Columns::new(&row);
        if columns.has_any(QID) && columns.has_any(IP) && columns.has_any(TITLE) {
            return Ok(columns);
        }
    }
    Err(ParseError::new(
        context.path,
        FORMAT_ID,
        None,
        format!(
            "no header row with the columns IP, QID and Title in the first {MAX_PREAMBLE_ROWS} rows: expected a \
             Qualys VM CSV export"
        ),
    ))
}

/// Collects a row's facts about its host.
fn host_facts(columns: &Columns, row: &Row) -> HostFacts {
    let value = |names: &[&str]| columns.value(row, names);
    let mut facts = HostFacts::new(value(IP), value(&["dns", "dns name", "hostname"]));
    facts.netbios = util::non_empty(value(&["netbios"]));
    facts.os = util::non_empty(value(&["os", "operating system"]));
    if let Some(method) = value(&["tracking method"]) {
        facts.attributes.push(("tracking_method", method.to_string()));
    }
    if let Some(network) = value(&["network"]) {
        facts.attributes.push(("network", network.to_string()));
    }
    facts
}

/// Returns the port and lowercase protocol of a row, when it has a port.
fn port(columns: &Columns, row: &Row) -> Option<(u16, String)> {
    let port = columns
        .value(row, &["port"])?
        .parse::<u16>()
        .ok()
        .filter(|port| *port > 0)?;
    let protocol = columns.value(row, &["protocol"]).unwrap_or("tcp").to_ascii_lowercase();
    Some((port, protocol))
}

/// Builds the finding of a row.
fn finding(columns: &Columns, row: &Row, qid: &str, scope: &HostScope, port: Option<(u16, String)>) -> Finding {
    let value = |names: &[&str]| columns.value(row, names);
    let title = value(TITLE).map_or_else(|| format!("Qualys QID {qid}"), str::to_string);
    let mut finding = Finding::new(
        TOOL,
        qid,
        FindingKind::Vulnerability,
        title,
        Severity::Info,
        scope.key.clone(),
    );
    finding.target = Some(scope.target.clone());
    if let Some((number, protocol)) = port {
        finding.location.port = Some(number);
        finding.location.protocol = Some(protocol);
    }

    for cve in value(&["cve id", "cveid", "cve"])
        .into_iter()
        .flat_map(shared::list_items)
    {
        util::add_vulnerability_id(&mut finding, cve);
    }
    for bid in value(&["bugtraq id", "bugtraqid"])
        .into_iter()
        .flat_map(shared::list_items)
    {
        util::add_vulnerability_id(&mut finding, &format!("BID:{bid}"));
    }
    let mut attributes: Vec<(&str, String)> = Vec::new();
    let cvss_columns = [
        ("cvss base", "cvss_base_score", None),
        ("cvss_base", "cvss_base_score", None),
        ("cvss3 base", "cvss3_base_score", Some(DEFAULT_CVSS3_VERSION)),
        ("cvss3.1 base", "cvss3_base_score", Some("3.1")),
    ];
    for (column, attribute, version) in cvss_columns {
        if let Some(score) = value(&[column]).and_then(|cell| qualys::add_cvss(&mut finding, cell, version)) {
            attributes.push((attribute, score));
        }
    }

    let level = value(&["q_severity"])
        .filter(|level| shared::qualys_severity(level).is_some())
        .or(value(&["severity"]));
    finding.severity = level
        .and_then(|level| shared::qualys_severity(level).or_else(|| shared::severity_word(level)))
        .unwrap_or_else(|| util::severity_or_cvss(None, &finding));
    let status = value(&["vuln status"]);
    finding.source_status = status.and_then(qualys::source_status);

    let plain = QidTexts {
        threat: value(&["threat"]),
        impact: value(&["impact"]),
        solution: value(&["solution"]),
    }
    .plain();
    finding.description = plain.description;
    finding.fix.description = plain.solution;
    qualys::add_links(&mut finding, plain.links);
    finding.evidence = value(&["results", "result"]).and_then(|text| shared::evidence(text, text.len()));

    attributes.extend(
        value(&["type"])
            .and_then(qualys::detection_type)
            .map(|kind| ("qualys_type", kind.to_string())),
    );
    attributes.extend(level.map(|level| ("qualys_severity", level.to_string())));
    let columns_kept = [
        ("vuln_status", &["vuln status"][..]),
        ("category", &["category"]),
        ("cvss_temporal", &["cvss temporal", "cvss_temporal"]),
        ("cvss3_temporal", &["cvss3 temporal", "cvss3.1 temporal"]),
        ("cvss3", &["cvss3", "cvss3.1"]),
        ("pci_flag", &["pci vuln", "is_pci"]),
        ("vendor_references", &["vendor reference"]),
        ("exploitability", &["exploitability"]),
        ("known_malware", &["associated malware"]),
        ("ticket_state", &["ticket state"]),
        ("fqdn", &["fqdn"]),
        ("ssl", &["ssl"]),
        ("instance", &["instance"]),
        ("false_positive_status", &["false positive status"]),
        ("first_found", &["first detected"]),
        ("last_found", &["last detected", "last scan"]),
        ("times_found", &["times detected"]),
        ("last_fixed", &["date last fixed"]),
        ("asset_tags", &["associated tags"]),
    ];
    for (name, names) in columns_kept {
        if let Some(text) = value(names).filter(|text| !shared::is_placeholder(text)) {
            attributes.push((name, text.to_string()));
        }
    }
    for (name, value) in attributes {
        finding.attributes.insert(name.into(), value);
    }
    finding
}
