//! Nessus, Tenable.io (Tenable Vulnerability Management) and Tenable.sc
//! CSV exports.
//!
//! # Reads
//!
//! CSV exports of scan results, one row per plugin, host, port and CVE:
//! Nessus 10 (`Plugin ID`, `CVE`, `CVSS v2.0 Base Score`, `Risk`, `Host`,
//! `Protocol`, `Port`, `Name`, `Synopsis`, `Description`, `Solution`, `See
//! Also`, `Plugin Output`, and optional columns up to the VPR and EPSS
//! scores), Tenable.io (the same plus `IP Address`, `FQDN`, `NetBios`,
//! `OS`, `Plugin Family`, vectors, `Severity`, `Vulnerability State`) and
//! Tenable.sc (`Plugin`, `Plugin Name`, `Family`, `Severity`, `IP Address`,
//! `DNS Name`, `Plugin Text`, `CVSS V2 Vector`, `Cross References`).
//! Columns are found by name, case-insensitively; a semicolon-separated
//! export is read too.
//!
//! # Field mapping
//!
//! The mapping follows the `nessus-xml` parser, so that the CSV and the
//! `.nessus` export of one scan share fingerprints:
//!
//! - `Plugin ID` (or `Plugin`) -> `rule_id`; `Name` (or `Plugin Name`) ->
//!   `title`; an open port of the `Port scanners` family is titled `Open
//!   port: <port>/<protocol>`.
//! - Kind: `ExposedService` for the families `Port scanners` and `Service
//!   detection` on a port, `Vulnerability` otherwise.
//! - `Risk` (the severity after the scan's recast rules), else `Severity`
//!   (a word, or Tenable.io's number 0 to 4), else `Risk Factor`, else the
//!   highest CVSS vector -> `severity`.
//! - `CVE` -> vulnerability ids, `BID` as `BID:<n>`, advisory namespaces of
//!   `XREF` or `Cross References` (`IAVA`, `CERT`, `MSFT`, ...) as
//!   `NAMESPACE:value`, `MSKB` as `MSKB:<n>`; `CWE` cross references ->
//!   `cwes`.
//! - The v2, v3 and v4 vector columns -> `cvss` (a bare v3 vector is CVSS
//!   3.0, the version Nessus rates with; the `CVSS2#` prefix is removed).
//! - `Description` -> `description`; `Solution` -> `fix.description`; `See
//!   Also` -> `references`; `Plugin Output` (or `Plugin Text`) ->
//!   `evidence`, cut to 4 KiB.
//! - `Port` and `Protocol` -> `location` (port 0 means none).
//! - `Vulnerability State` -> `source_status` (`Fixed`; `Active`, `New`
//!   and `Resurfaced` as `Affected`).
//! - `Synopsis`, the plugin family, `Service`, `Risk Factor`, the date of a
//!   `CISA-KNOWN-EXPLOITED` cross reference, the CVSS, VPR and EPSS scores (only values in their range: exports saved through a
//!   spreadsheet can lose the decimal point), `CPE`, exploit facts, and the
//!   first and last seen and publication dates -> `attributes`.
//! - Assets: a host per `IP Address` (else `Host`), with `ip`, `fqdn` or
//!   `hostname`, `netbios_name` and `mac` identifiers and `OS` as `os`; a
//!   service per port with a finding, which the host `Hosts`.
//!
//! Rows that differ only in their CVE (the export writes one row per CVE)
//! are merged into one finding with every CVE when they follow each other,
//! as Nessus and Tenable write them.
//!
//! # Scope target
//!
//! `host:<ip>` for each host with a row. The export lists results only, so
//! hosts without results are not declared.
//!
//! # Fingerprint
//!
//! The tool `nessus`, the plugin id, the host, and the port and protocol.
//!
//! # Not read yet
//!
//! Temporal vectors and scores, `CPE` as a component (the `.nessus` parser
//! does not read it either, and a component would change the
//! fingerprint), compliance check columns, and Tenable Web App Scanning CSV
//! exports.
//!
//! # Reference
//!
//! Tenable, "Export a Scan" (Nessus 10.x user guide):
//! <https://docs.tenable.com/nessus/Content/ExportAScan.htm>.

use std::io::BufRead;
use std::net::IpAddr;

use ctem_model::{Finding, FindingKind, Severity, SourceStatus};

use super::host_scan_shared::hosts::{HostAssets, HostFacts, HostScope};
use super::host_scan_shared::table::{self, Columns, CsvRows, Row};
use super::host_scan_shared::{self as shared};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "nessus-csv";
const TOOL: &str = "nessus";

/// Column names of each field, in the order they are tried.
const PLUGIN_ID: &[&str] = &["plugin id", "plugin"];
const NAME: &[&str] = &["name", "plugin name"];
const HOST: &[&str] = &["host"];
const IP: &[&str] = &["ip address", "ip"];
const DNS_NAME: &[&str] = &["fqdn", "dns name"];
const PORT: &[&str] = &["port"];
const PROTOCOL: &[&str] = &["protocol"];
const FAMILY: &[&str] = &["plugin family", "family"];
const SERVICE: &[&str] = &["service", "svc_name"];

/// `XREF` namespaces that name advisories or vulnerabilities, kept as
/// vulnerability ids, as in the `.nessus` parser. Others (`OWASP`, `WASC`)
/// classify weaknesses.
const ADVISORY_XREFS: &[&str] = &[
    "IAVA",
    "IAVB",
    "IAVT",
    "CERT",
    "CERT-CC",
    "MSFT",
    "MSKB",
    "EDB-ID",
    "OSVDB",
    "CISCO-BUG-ID",
    "CISCO-SA",
    "RHSA",
    "DSA",
    "GLSA",
    "FEDORA",
    "SUSE",
    "ALAS",
    "VMSA",
    "APPLE-SA",
    "TRA",
];

/// The Nessus and Tenable CSV parser.
pub struct NessusCsv;

impl Parser for NessusCsv {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Nessus / Tenable CSV",
            tool: "Nessus, Tenable.io, Tenable.sc",
            versions: "Nessus 10 CSV exports, Tenable.io and Tenable.sc vulnerability CSV exports",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let records = table::head_records(head, 1);
        let Some(header) = records.first() else {
            return Detection::No;
        };
        let has = |names: &[&str]| names.iter().any(|name| header.iter().any(|cell| cell == name));
        if has(PLUGIN_ID) && has(NAME) && (has(HOST) || has(IP) || has(DNS_NAME)) {
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
                "the file is empty: expected a Nessus CSV export with a header row",
            ));
        };
        let columns = Columns::new(&header);
        let has_host = columns.has_any(HOST) || columns.has_any(IP) || columns.has_any(DNS_NAME);
        if !columns.has_any(PLUGIN_ID) || !columns.has_any(NAME) || !has_host {
            return Err(rows.error(
                header.line,
                format!(
                    "not a Nessus CSV export: expected the columns Plugin ID, Name and Host (Tenable.sc: Plugin, \
                     Plugin Name and IP Address), found: {}",
                    columns.describe()
                ),
            ));
        }
        rows.set_width(columns.len());

        let mut hosts = HostAssets::new(TOOL);
        // The finding of the previous row, which the next row extends when
        // only its CVE differs. NOTE: rows of one result that do not follow
        // each other give two findings with one fingerprint, and the engine
        // keeps one of them; Nessus and Tenable write them together.
        let mut pending: Option<Finding> = None;
        while let Some(row) = rows.next_row()? {
            if row.is_blank() {
                continue;
            }
            let Some(plugin_id) = columns.value(&row, PLUGIN_ID) else {
                return Err(rows.error(
                    row.line,
                    "the row has no Plugin ID: every Nessus result names its plugin",
                ));
            };
            let Some(scope) = hosts.host(sink, &host_facts(&columns, &row)) else {
                return Err(rows.error(
                    row.line,
                    "the row has no Host or IP Address: every Nessus result names its host",
                ));
            };
            let port = port(&columns, &row);
            if let Some((number, protocol)) = &port {
                hosts.service(sink, &scope, *number, protocol, columns.value(&row, SERVICE));
            }

            if let Some(finding) = pending.as_mut().filter(|f| same_result(f, plugin_id, &scope, &port)) {
                add_identifiers(finding, &columns, &row);
                continue;
            }
            if let Some(finding) = pending.take() {
                sink.finding(finding);
            }
            pending = Some(finding(&columns, &row, plugin_id, &scope, port));
        }
        if let Some(finding) = pending {
            sink.finding(finding);
        }
        Ok(())
    }
}

/// Collects a row's facts about its host.
fn host_facts(columns: &Columns, row: &Row) -> HostFacts {
    let value = |names: &[&str]| columns.value(row, names);
    let host = value(HOST);
    let host_is_ip = host.is_some_and(|host| host.parse::<IpAddr>().is_ok());
    let ip = value(IP).or(host.filter(|_| host_is_ip));
    let name = value(DNS_NAME).or(host.filter(|_| !host_is_ip));

    let mut facts = HostFacts::new(ip, name);
    facts.netbios = util::non_empty(value(&["netbios", "netbios name"]));
    facts.macs = value(&["mac address", "mac"])
        .into_iter()
        .flat_map(shared::list_items)
        .map(str::to_string)
        .collect();
    facts.os = util::non_empty(value(&["os", "operating system"]));
    if let Some(system_type) = value(&["system type"]) {
        facts.attributes.push(("system_type", system_type.to_string()));
    }
    facts
}

/// Returns the port and lowercase protocol of a row, where port 0 means
/// none.
fn port(columns: &Columns, row: &Row) -> Option<(u16, String)> {
    let port = columns.value(row, PORT)?.parse::<u16>().ok().filter(|port| *port > 0)?;
    let protocol = columns.value(row, PROTOCOL).unwrap_or("tcp").to_ascii_lowercase();
    Some((port, protocol))
}

/// Returns whether a finding is the one of this plugin, host and port,
/// which a row that adds a CVE extends.
fn same_result(finding: &Finding, plugin_id: &str, scope: &HostScope, port: &Option<(u16, String)>) -> bool {
    let location = &finding.location;
    finding.rule_id == plugin_id
        && finding.asset == scope.key
        && location.port == port.as_ref().map(|(number, _)| *number)
        && location.protocol.as_deref() == port.as_ref().map(|(_, protocol)| protocol.as_str())
}

/// Builds the finding of a row.
fn finding(columns: &Columns, row: &Row, plugin_id: &str, scope: &HostScope, port: Option<(u16, String)>) -> Finding {
    let value = |names: &[&str]| columns.value(row, names);
    let family = value(FAMILY).unwrap_or_default();
    let kind = if port.is_some() && (family == "Port scanners" || family == "Service detection") {
        FindingKind::ExposedService
    } else {
        FindingKind::Vulnerability
    };
    let plugin_name = value(NAME).map_or_else(|| format!("Nessus plugin {plugin_id}"), str::to_string);
    let service = value(SERVICE);
    let title = match (&port, family) {
        (Some((number, protocol)), "Port scanners") => match service {
            Some(service) => format!("Open port: {number}/{protocol} ({service})"),
            None => format!("Open port: {number}/{protocol}"),
        },
        _ => plugin_name.clone(),
    };
    let mut finding = Finding::new(TOOL, plugin_id, kind, title, Severity::Info, scope.key.clone());
    finding.target = Some(scope.target.clone());
    if let Some((number, protocol)) = port {
        finding.location.port = Some(number);
        finding.location.protocol = Some(protocol);
    }

    add_identifiers(&mut finding, columns, row);
    finding.severity = severity(columns, row, &finding);
    finding.source_status = value(&["vulnerability state"]).and_then(source_status);

    finding.description = value(&["description"]).and_then(shared::long_text);
    finding.fix.description = value(&["solution"]).and_then(shared::long_text);
    for reference in value(&["see also"]).into_iter().flat_map(str::split_whitespace) {
        if !finding.references.iter().any(|known| known == reference) {
            finding.references.push(reference.to_string());
        }
    }
    let output =
        value(&["plugin output", "plugin text"]).map(|text| text.strip_prefix("Plugin Output:").unwrap_or(text));
    finding.evidence = output.and_then(|text| shared::evidence(text, text.len()));

    add_attributes(&mut finding, columns, row, &plugin_name);
    finding
}

/// Adds the identifiers and vectors of a row: the fields that differ
/// between the rows of one result.
fn add_identifiers(finding: &mut Finding, columns: &Columns, row: &Row) {
    let value = |names: &[&str]| columns.value(row, names);
    for cve in value(&["cve"]).into_iter().flat_map(shared::list_items) {
        util::add_vulnerability_id(finding, cve);
    }
    for bid in value(&["bid"]).into_iter().flat_map(shared::list_items) {
        util::add_vulnerability_id(finding, &format!("BID:{bid}"));
    }
    for kb in value(&["mskb"]).into_iter().flat_map(shared::list_items) {
        util::add_vulnerability_id(finding, &format!("MSKB:{kb}"));
    }
    // Nessus writes `IAVA:2017-A-0065`, Tenable.sc `IAVA #2017-A-0065`,
    // separated by commas, semicolons or line breaks.
    let xrefs = value(&["xref", "cross references"]).unwrap_or_default();
    for xref in xrefs.split([',', ';', '\n']).map(str::trim) {
        let Some((namespace, reference)) = xref.split_once(':').or_else(|| xref.split_once(" #")) else {
            continue;
        };
        let (namespace, reference) = (namespace.trim(), reference.trim());
        if namespace.eq_ignore_ascii_case("CISA-KNOWN-EXPLOITED") {
            // The date by which CISA requires agencies to fix it, as a fact
            // for scoring: the finding is in the KEV catalog.
            finding
                .attributes
                .insert("cisa_known_exploited".into(), reference.to_string());
        } else if namespace.eq_ignore_ascii_case("CWE") {
            util::add_cwe(finding, reference);
        } else if ADVISORY_XREFS.iter().any(|known| known.eq_ignore_ascii_case(namespace)) {
            util::add_vulnerability_id(finding, &format!("{namespace}:{reference}"));
        }
    }

    let v2 = ["cvss v2 vector", "cvss v2.0 vector", "cvss2 vector", "cvss vector"];
    for vector in v2.iter().filter_map(|name| value(&[name])) {
        shared::add_cvss_v2(finding, vector);
    }
    let v3 = ["cvss v3 vector", "cvss v3.0 vector", "cvss3 vector"];
    for vector in v3.iter().filter_map(|name| value(&[name])) {
        shared::add_cvss_v3(finding, vector, "3.0");
    }
    let v4 = ["cvss v4 vector", "cvss v4.0 vector", "cvss4 vector"];
    for vector in v4.iter().filter_map(|name| value(&[name])) {
        if vector.starts_with("CVSS:") {
            util::add_cvss(finding, vector);
        } else {
            util::add_cvss(finding, &format!("CVSS:4.0/{vector}"));
        }
    }
}

/// Rates a row by its `Risk`, else its `Severity` (a word or a number 0 to
/// 4), else its `Risk Factor`, else its highest CVSS vector.
fn severity(columns: &Columns, row: &Row, finding: &Finding) -> Severity {
    let value = |names: &[&str]| columns.value(row, names);
    let word = |text: &str| text.parse::<Severity>().ok();
    value(&["risk"])
        .and_then(word)
        .or_else(|| value(&["severity"]).and_then(|text| shared::nessus_severity_number(text).or_else(|| word(text))))
        .or_else(|| value(&["risk factor"]).and_then(word))
        .unwrap_or_else(|| util::severity_or_cvss(None, finding))
}

/// Maps a Tenable.io `Vulnerability State` to a status.
fn source_status(state: &str) -> Option<SourceStatus> {
    match state.trim().to_ascii_lowercase().as_str() {
        "fixed" => Some(SourceStatus::Fixed),
        "active" | "new" | "resurfaced" | "reopened" => Some(SourceStatus::Affected),
        _ => None,
    }
}

/// Adds the row's facts that have no field of their own, under the names
/// that the `.nessus` parser uses.
fn add_attributes(finding: &mut Finding, columns: &Columns, row: &Row, plugin_name: &str) {
    let value = |names: &[&str]| columns.value(row, names);
    let score = |names: &[&str]| value(names).filter(|text| shared::cvss_score(text).is_some());
    let probability = |names: &[&str]| {
        value(names).filter(|text| text.parse::<f64>().is_ok_and(|number| (0.0..=1.0).contains(&number)))
    };
    let attributes = [
        ("plugin_family", value(FAMILY)),
        ("plugin_name", Some(plugin_name)),
        ("service", value(SERVICE)),
        ("synopsis", value(&["synopsis"])),
        ("risk_factor", value(&["risk factor"])),
        (
            "cvss_base_score",
            score(&["cvss v2.0 base score", "cvss v2 base score", "cvss base score", "cvss"]),
        ),
        (
            "cvss3_base_score",
            score(&["cvss v3.0 base score", "cvss v3 base score", "cvss3 base score"]),
        ),
        (
            "cvss4_base_score",
            score(&["cvss v4.0 base score", "cvss v4 base score", "cvss4 base score"]),
        ),
        (
            "vpr_score",
            score(&[
                "vpr score",
                "vulnerability priority rating",
                "vulnerability priority rating (vpr)",
            ]),
        ),
        ("epss_score", probability(&["epss score"])),
        ("exploit_available", value(&["exploit available", "exploit?"])),
        ("exploited_by_malware", value(&["exploited by malware"])),
        ("in_the_news", value(&["in the news"])),
        ("exploit_frameworks", value(&["exploit frameworks"])),
        ("metasploit", value(&["metasploit"])),
        ("core_impact", value(&["core impact"])),
        ("canvas", value(&["canvas"])),
        ("stig_severity", value(&["stig severity"])),
        ("cpe", value(&["cpe"])),
        ("vulnerability_state", value(&["vulnerability state"])),
        ("first_found", value(&["first found", "first discovered"])),
        ("last_found", value(&["last found", "last observed"])),
        ("patch_publication_date", value(&["patch publication date"])),
        ("plugin_publication_date", value(&["plugin publication date"])),
    ];
    for (name, value) in attributes {
        if let Some(value) = value.filter(|value| !shared::is_placeholder(value)) {
            finding.attributes.insert(name.into(), value.to_string());
        }
    }
}
