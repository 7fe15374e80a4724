//! OpenVAS and Greenbone (GVM) CSV result exports.
//!
//! # Reads
//!
//! The "CSV Results" report format of GVM (tested with GVM 20.08 and 22.x
//! exports), with one row per result. Its columns are `IP`, `Hostname`, `Port`, `Port Protocol`,
//! `CVSS`, `Severity`, `QoD`, `Solution Type`, `NVT Name`, `Summary`,
//! `Specific Result`, `NVT OID`, `CVEs`, `Task ID`, `Task Name`,
//! `Timestamp`, `Result ID`, `Impact`, `Solution`, `Affected Software/OS`,
//! `Vulnerability Insight`, `Vulnerability Detection Method`, `Product
//! Detection Result`, `BIDs`, `CERTs`, `Other References` and, since GVM
//! 22.x, `Max Severity EPSS score` and `Max Severity EPSS percentile`.
//! Columns are found by name, case-insensitively; a semicolon-separated
//! export is read too.
//!
//! # Field mapping
//!
//! The mapping is that of the XML export (see the `openvas-xml` parser),
//! so that both exports of one scan give the same findings:
//!
//! - `NVT OID` -> `rule_id`; `NVT Name` -> `title`; kind `Vulnerability`.
//! - `Severity` (the threat level) -> `severity`, else the rating of the
//!   `CVSS` score; `Log` is `Info`, and `False Positive` is `Info` with
//!   `source_status` `FalsePositive`.
//! - `CVEs` -> vulnerability ids, `BIDs` as `BID:<n>`, `CERTs` (CERT-Bund
//!   and DFN-CERT advisories) as their ids; `Other References` ->
//!   `references`.
//! - `Summary`, `Impact`, `Vulnerability Insight`, `Affected Software/OS`
//!   and `Vulnerability Detection Method` (without the NVT details that
//!   the export appends) -> `description`; `Solution` ->
//!   `fix.description`; `Specific Result` -> `evidence`, cut to 4 KiB.
//! - `Port` and `Port Protocol` -> `location` (no port for `general`
//!   results).
//! - `CVSS`, `Severity`, `QoD`, `Solution Type`, the EPSS columns, `Task
//!   Name`, `Task ID`, `Timestamp` and `Result ID` -> `attributes`.
//! - Assets: a host per `IP`, with its `Hostname`; a service per port with
//!   a result, which the host `Hosts`.
//!
//! # Scope target
//!
//! `host:<ip>` for each host with a row. The export lists results only, so
//! hosts without results are not declared.
//!
//! # Fingerprint
//!
//! The tool `openvas`, the NVT OID, the host, and the port and protocol.
//!
//! # Not read yet
//!
//! `Product Detection Result`. The CSV export holds no CVSS vectors, only
//! the score.
//!
//! # Reference
//!
//! Greenbone report formats:
//! <https://docs.greenbone.net/GSM-Manual/gos-22.04/en/reports.html#exporting-a-report>.

use std::io::BufRead;

use ctem_model::{Finding, FindingKind, Severity};

use super::host_scan_shared::hosts::{HostAssets, HostFacts, HostScope};
use super::host_scan_shared::openvas::{self, NvtTexts, TOOL};
use super::host_scan_shared::table::{self, Columns, CsvRows, Row};
use super::host_scan_shared::{self as shared};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink};

const FORMAT_ID: &str = "openvas-csv";

/// The OpenVAS / Greenbone CSV parser.
pub struct OpenVasCsv;

impl Parser for OpenVasCsv {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "OpenVAS / Greenbone CSV",
            tool: "OpenVAS, Greenbone Vulnerability Management (GVM)",
            versions: "GVM \"CSV Results\" exports (tested with GVM 20.08 and 22.x)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let records = table::head_records(head, 1);
        let Some(header) = records.first() else {
            return Detection::No;
        };
        let has = |name: &str| header.iter().any(|cell| cell == name);
        if has("nvt oid") && has("nvt name") {
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
        let Some(header) = rows.next_row()? else {
            return Err(ParseError::new(
                context.path,
                FORMAT_ID,
                None,
                "the file is empty: expected an OpenVAS CSV export with a header row",
            ));
        };
        let columns = Columns::new(&header);
        if !columns.has("ip") || !columns.has_any(&["nvt oid", "nvt name"]) {
            return Err(rows.error(
                header.line,
                format!(
                    "not an OpenVAS CSV export: expected the columns IP, NVT OID and NVT Name, found: {}",
                    columns.describe()
                ),
            ));
        }
        rows.set_width(columns.len());

        let mut hosts = HostAssets::new(TOOL);
        while let Some(row) = rows.next_row()? {
            if row.is_blank() {
                continue;
            }
            let value = |names: &[&str]| columns.value(&row, names);
            let facts = HostFacts::new(value(&["ip"]), value(&["hostname"]));
            let Some(scope) = hosts.host(sink, &facts) else {
                return Err(rows.error(row.line, "the row has no IP: every OpenVAS result names its host"));
            };
            let port = port(&columns, &row);
            if let Some((number, protocol)) = &port {
                hosts.service(sink, &scope, *number, protocol, None);
            }

            let Some(finding) = finding(&columns, &row, &scope, port) else {
                return Err(rows.error(row.line, "the row has neither an NVT OID nor an NVT Name"));
            };
            sink.finding(finding);
        }
        Ok(())
    }
}

/// Returns the port and protocol of a row, when it has a port number.
fn port(columns: &Columns, row: &Row) -> Option<(u16, String)> {
    let number = columns.value(row, &["port"])?;
    let protocol = columns.value(row, &["port protocol"]).unwrap_or("tcp");
    openvas::port(&format!("{number}/{protocol}"))
}

/// Builds the finding of one row on its host, or `None` for a row without
/// an NVT.
fn finding(columns: &Columns, row: &Row, scope: &HostScope, port: Option<(u16, String)>) -> Option<Finding> {
    let value = |names: &[&str]| columns.value(row, names);
    let rule_id = value(&["nvt oid"]).or(value(&["nvt name"]))?;
    let title = value(&["nvt name"])
        .map(openvas::title)
        .unwrap_or_else(|| format!("OpenVAS NVT {rule_id}"));
    let mut finding = Finding::new(
        TOOL,
        rule_id,
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

    let lists = [
        ("cve", &["cves", "cve"][..]),
        ("bid", &["bids", "bid"]),
        ("cert", &["certs"]),
    ];
    for (kind, names) in lists {
        for id in value(names).into_iter().flat_map(shared::list_items) {
            openvas::add_reference(&mut finding, kind, id);
        }
    }
    for reference in value(&["other references"])
        .into_iter()
        .flat_map(shared::list_items)
        .filter(|item| item.starts_with("http://") || item.starts_with("https://"))
    {
        openvas::add_reference(&mut finding, "url", reference);
    }
    let threat = value(&["severity"]);
    finding.severity = openvas::severity(threat, value(&["cvss"]), &finding);
    finding.source_status = openvas::source_status(threat);

    // The export appends the NVT's name, OID and version to the detection
    // method; the XML export keeps them apart.
    let detection = value(&["vulnerability detection method"])
        .map(|text| text.split_once("\nDetails:").map_or(text, |(method, _)| method));
    finding.description = NvtTexts {
        summary: value(&["summary"]),
        impact: value(&["impact"]),
        insight: value(&["vulnerability insight"]),
        affected: value(&["affected software/os"]),
        detection,
    }
    .description();
    finding.fix.description = value(&["solution"])
        .map(shared::unwrap_prose)
        .and_then(|text| shared::long_text(&text));
    finding.evidence = value(&["specific result"]).and_then(|text| shared::evidence(text, text.len()));

    let attributes = [
        ("solution_type", &["solution type"][..]),
        ("severity_score", &["cvss"]),
        ("threat", &["severity"]),
        ("qod", &["qod"]),
        ("epss_score", &["max severity epss score"]),
        ("epss_percentile", &["max severity epss percentile"]),
        ("task_name", &["task name"]),
        ("task_id", &["task id"]),
        ("timestamp", &["timestamp"]),
        ("result_id", &["result id"]),
    ];
    for (name, columns) in attributes {
        if let Some(text) = value(columns) {
            finding.attributes.insert(name.into(), text.to_string());
        }
    }
    Some(finding)
}
