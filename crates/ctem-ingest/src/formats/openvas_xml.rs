//! OpenVAS and Greenbone (GVM) XML reports.
//!
//! # Reads
//!
//! The XML report format of the Greenbone Management Protocol (tested with
//! GMP 9.0 and 22.4 reports) and of its predecessor OMP (OpenVAS 8 and 9):
//! a `<report>` root (the export) around an inner `<report>`, or a
//! `<get_reports_response>` around them. Each `<results>` > `<result>` gives a `<host>` (the address, with
//! a `<hostname>`), a `<port>` (`443/tcp`, `general/tcp`), an `<nvt oid>`
//! (`<name>`, `<family>`, `<cvss_base>`, `<severities>`, `<tags>`,
//! `<solution type>`, `<refs>` with `<ref type id>`, `<epss>`), a
//! `<threat>`, a `<severity>` score, a `<qod>` and a `<description>` (the
//! result's own output). OMP reports give `<cve>`, `<bid>`, `<xref>` and
//! `<cert>` in place of `<refs>`. The report-level `<host>` elements name
//! every scanned host, also those without results.
//!
//! # Field mapping
//!
//! - NVT `oid` -> `rule_id`; NVT `<name>` (whitespace collapsed), else the
//!   result `<name>` -> `title`. Kind `Vulnerability` for every result.
//! - `<threat>` -> `severity`: `Critical`, `High`, `Medium` and `Low` as
//!   written, `Log`, `Debug` and `False Positive` as `Info`; without a
//!   threat, the rating of the `<severity>` score, else of the highest CVSS
//!   vector. `False Positive` (an override) -> `source_status`
//!   `FalsePositive`.
//! - Every result is a finding, `Log` results included, as DefectDojo
//!   counts them: the report's filter (`levels=hml`) already chose which
//!   levels the export holds.
//! - `<ref type="cve">` -> vulnerability ids, `bid` as `BID:<n>`,
//!   `cert-bund` and `dfn-cert` advisories as their ids; `url` ->
//!   `references`.
//! - `<severities>` vectors and the `cvss_base_vector` tag -> `cvss` (a bare
//!   vector is CVSS v2, as GVM writes v3 and v4 vectors with their prefix).
//! - Tags `summary`, `impact`, `insight`, `affected` and `vuldetect` ->
//!   `description` (the summary, then one labelled paragraph each);
//!   `<solution>` (else the `solution` tag) -> `fix.description`.
//! - Result `<description>` -> `evidence`, cut to 4 KiB.
//! - `<port>` -> `location.port` and `location.protocol` (`general/...`
//!   gives none; the text is kept in `attributes.port`).
//! - NVT family, solution type, `<cvss_base>`, the `<severity>` score, the
//!   threat, an original threat that an override changed, the QoD, the
//!   EPSS score and percentile of the most severe CVE, and the result id ->
//!   `attributes`.
//! - Assets: a host per address, with `ip` and `hostname` or `fqdn`
//!   identifiers (and the OS of the report-level host details); each port
//!   with a result is a service keyed `<ip>:<port>/<protocol>`, which the
//!   host `Hosts`.
//!
//! # Scope target
//!
//! `host:<address>` for every host with results and every report-level
//! `<host>`, so that a rescan of one host closes only that host's
//! findings.
//!
//! # Fingerprint
//!
//! The tool `openvas`, the NVT OID, the host, and the port and protocol.
//! Result ids are not part of it: GVM gives every result of every scan a
//! new id.
//!
//! # Not read yet
//!
//! Notes, overrides other than their effect on the threat, product
//! detection details, the report's own summary counts, and host details
//! (OS) of a host whose results came first: GVM writes the report-level
//! hosts after the results, and each asset is sent once.
//!
//! # Reference
//!
//! Greenbone Management Protocol, `get_reports` response:
//! <https://docs.greenbone.net/API/GMP/gmp-22.4.html#command_get_reports>.

use std::io::BufRead;

use ctem_model::{Finding, FindingKind, Severity};
use quick_xml::events::BytesStart;

use super::host_scan_shared::hosts::{HostAssets, HostFacts, HostScope};
use super::host_scan_shared::openvas::{self, NvtTexts, TOOL};
use super::host_scan_shared::xml_walk::{self, XmlVisitor, below, ends_with};
use super::host_scan_shared::{self as shared, BoundedText};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "openvas-xml";

/// The id of GVM's XML report format, written in the `format_id` of every
/// export.
const XML_REPORT_FORMAT: &[u8] = b"a994b278-1f62-11e1-96ac-406186ea4fc5";

/// The OpenVAS / Greenbone XML parser.
pub struct OpenVasXml;

impl Parser for OpenVasXml {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "OpenVAS / Greenbone XML",
            tool: "OpenVAS, Greenbone Vulnerability Management (GVM)",
            versions: "GMP XML reports (tested with GMP 9.0 and 22.4) and OMP 7 XML reports",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let markers = [
            b"<gmp>".as_slice(),
            b"<omp>",
            b"<nvt oid=",
            b"<scan_run_status>",
            XML_REPORT_FORMAT,
        ];
        match xml_walk::root_name(head).as_deref() {
            Some("report" | "get_reports_response") if markers.iter().any(|m| util::contains(head, m)) => {
                Detection::Certain
            }
            _ => Detection::No,
        }
    }

    fn parse(
        &self,
        context: &ParseContext<'_>,
        reader: &mut dyn BufRead,
        sink: &mut dyn Sink,
    ) -> Result<(), ParseError> {
        let mut visitor = Report {
            sink,
            hosts: HostAssets::new(TOOL),
            inner_report_seen: false,
            result: None,
            host: None,
        };
        xml_walk::walk(
            context,
            FORMAT_ID,
            "an OpenVAS or Greenbone report with a <report> root element",
            reader,
            &mut visitor,
        )?;

        if !visitor.inner_report_seen {
            return Err(ParseError::new(
                context.path,
                FORMAT_ID,
                None,
                "no inner <report> element: expected a GMP report export (<report><report>...<results>), \
                 as the XML report format of Greenbone or OpenVAS writes it",
            ));
        }
        Ok(())
    }
}

/// One `<result>` being read, with its depth in the document.
#[derive(Debug, Default)]
struct ResultRecord {
    depth: usize,
    id: Option<String>,
    name: Option<String>,
    host: Option<String>,
    hostname: Option<String>,
    port: Option<String>,
    oid: Option<String>,
    nvt_name: Option<String>,
    family: Option<String>,
    cvss_base: Option<String>,
    /// `<severities>` vectors with their type (`cvss_base_v2`, `cvss_base_v3`).
    vectors: Vec<(String, String)>,
    /// The type of the `<severity>` inside `<severities>` being read.
    vector_type: Option<String>,
    tags: Option<String>,
    solution: Option<String>,
    solution_type: Option<String>,
    /// References as (type, id): `<ref>` elements, or OMP's lists.
    refs: Vec<(String, String)>,
    threat: Option<String>,
    original_threat: Option<String>,
    score: Option<String>,
    qod: Option<String>,
    evidence: Option<BoundedText>,
    epss_score: Option<String>,
    epss_percentile: Option<String>,
}

/// One report-level `<host>` being read.
#[derive(Debug, Default)]
struct ReportHost {
    depth: usize,
    ip: Option<String>,
    hostname: Option<String>,
    os: Option<String>,
    /// The `<detail>` being read, as (name, value).
    detail: (Option<String>, Option<String>),
}

/// The walk's state: the result or host being read and the records sent.
struct Report<'s> {
    sink: &'s mut dyn Sink,
    hosts: HostAssets,
    inner_report_seen: bool,
    result: Option<ResultRecord>,
    host: Option<ReportHost>,
}

impl XmlVisitor for Report<'_> {
    fn root(&mut self, element: &BytesStart<'_>) -> Result<(), String> {
        let name = String::from_utf8_lossy(element.name().as_ref()).into_owned();
        match name.as_str() {
            "report" | "get_reports_response" => Ok(()),
            _ => Err(format!(
                "not an OpenVAS report: expected the root element <report>, found <{name}>"
            )),
        }
    }

    fn open(&mut self, path: &[String], element: &BytesStart<'_>) -> Result<bool, String> {
        let depth = path.len() - 1;
        if let Some(result) = &mut self.result {
            result.open(&below(path, result.depth), element);
            // Nested subtrees that the finding does not use keep no text.
            let skipped = ["owner", "notes", "overrides", "detection", "delta"];
            let child = path.get(result.depth + 1).map(String::as_str);
            return Ok(!child.is_some_and(|child| skipped.contains(&child)));
        }
        if self.host.is_some() {
            return Ok(true);
        }

        if ends_with(path, &["report", "report"]) {
            self.inner_report_seen = true;
        } else if ends_with(path, &["report", "results", "result"]) {
            self.result = Some(ResultRecord {
                depth,
                id: util::xml_attribute(element, "id"),
                ..ResultRecord::default()
            });
        } else if ends_with(path, &["report", "host"]) {
            self.host = Some(ReportHost {
                depth,
                ..ReportHost::default()
            });
        }
        Ok(false)
    }

    fn close(&mut self, path: &[String], text: Option<BoundedText>) -> Result<(), String> {
        if let Some(result) = &mut self.result {
            let relative = below(path, result.depth);
            if !relative.is_empty() {
                result.close(&relative, text);
                return Ok(());
            }
            if let Some(result) = self.result.take() {
                self.send_result(result)?;
            }
            return Ok(());
        }

        if let Some(host) = &mut self.host {
            let relative = below(path, host.depth);
            if !relative.is_empty() {
                host.close(&relative, text);
                return Ok(());
            }
            if let Some(host) = self.host.take() {
                let mut facts = HostFacts::new(host.ip.as_deref(), host.hostname.as_deref());
                facts.os = host.os;
                self.hosts.host(self.sink, &facts);
            }
        }
        Ok(())
    }
}

impl ResultRecord {
    fn open(&mut self, relative: &str, element: &BytesStart<'_>) {
        let attribute = |name: &str| util::xml_attribute(element, name).and_then(|v| util::non_empty(Some(&v)));
        match relative {
            "nvt" => self.oid = attribute("oid"),
            "nvt/refs/ref" => {
                if let (Some(kind), Some(id)) = (attribute("type"), attribute("id")) {
                    self.refs.push((kind, id));
                }
            }
            "nvt/cert/cert_ref" => {
                if let (Some(kind), Some(id)) = (attribute("type"), attribute("id")) {
                    self.refs.push((kind, id));
                }
            }
            "nvt/severities/severity" => self.vector_type = attribute("type"),
            "nvt/solution" => self.solution_type = attribute("type"),
            _ => {}
        }
    }

    fn close(&mut self, relative: &str, text: Option<BoundedText>) {
        if relative == "description" {
            self.evidence = text;
            return;
        }
        let Some(value) = text.and_then(|text| text.non_empty()) else {
            return;
        };
        match relative {
            "name" => self.name = Some(value),
            "host" => self.host = Some(value),
            "host/hostname" => self.hostname = Some(value),
            "port" => self.port = Some(value),
            "nvt/name" => self.nvt_name = Some(value),
            "nvt/family" => self.family = Some(value),
            "nvt/cvss_base" => self.cvss_base = Some(value),
            "nvt/tags" => self.tags = Some(value),
            "nvt/solution" => self.solution = Some(value),
            "nvt/severities/severity/value" => {
                let kind = self.vector_type.clone().unwrap_or_default();
                self.vectors.push((kind, value));
            }
            "nvt/epss/max_severity/score" => self.epss_score = Some(value),
            "nvt/epss/max_severity/percentile" => self.epss_percentile = Some(value),
            // OMP lists ids in one element each, with placeholders for none.
            "nvt/cve" => self.push_list("cve", &value, "NOCVE"),
            "nvt/bid" => self.push_list("bid", &value, "NOBID"),
            "nvt/xref" => {
                for item in value.split(',').map(str::trim) {
                    if let Some(url) = item.strip_prefix("URL:") {
                        self.refs.push(("url".into(), url.trim().to_string()));
                    }
                }
            }
            "threat" => self.threat = Some(value),
            "original_threat" => self.original_threat = Some(value),
            "severity" => self.score = Some(value),
            "qod/value" => self.qod = Some(value),
            _ => {}
        }
    }

    fn push_list(&mut self, kind: &str, value: &str, none: &str) {
        for item in shared::list_items(value).filter(|item| !item.eq_ignore_ascii_case(none)) {
            self.refs.push((kind.to_string(), item.to_string()));
        }
    }
}

impl ReportHost {
    fn close(&mut self, relative: &str, text: Option<BoundedText>) {
        let value = text.and_then(|text| text.non_empty());
        match relative {
            "ip" => self.ip = value,
            "detail/name" => self.detail.0 = value,
            "detail/value" => self.detail.1 = value,
            "detail" => {
                let (name, value) = std::mem::take(&mut self.detail);
                match (name.as_deref(), value) {
                    (Some("hostname"), Some(value)) => self.hostname = Some(value),
                    (Some("best_os_txt"), Some(value)) => self.os = Some(value),
                    _ => {}
                }
            }
            _ => {}
        }
    }
}

impl Report<'_> {
    fn send_result(&mut self, result: ResultRecord) -> Result<(), String> {
        let facts = HostFacts::new(result.host.as_deref(), result.hostname.as_deref());
        let Some(scope) = self.hosts.host(self.sink, &facts) else {
            return Err(format!(
                "the <result> {} has no <host>: every OpenVAS result names the host it is about",
                result.id.as_deref().unwrap_or("without id")
            ));
        };
        if let Some((number, protocol)) = result.port.as_deref().and_then(openvas::port) {
            self.hosts.service(self.sink, &scope, number, &protocol, None);
        }

        let finding = finding(result, &scope)?;
        self.sink.finding(finding);
        Ok(())
    }
}

/// Builds the finding of one result on its host.
fn finding(result: ResultRecord, scope: &HostScope) -> Result<Finding, String> {
    let tags = Tags::parse(result.tags.as_deref().unwrap_or_default());
    let Some(rule_id) = result.oid.clone().or_else(|| result.nvt_name.clone()) else {
        return Err(format!(
            "the <result> {} has no NVT OID: expected <nvt oid=\"...\">",
            result.id.as_deref().unwrap_or("without id")
        ));
    };
    let title = result
        .nvt_name
        .as_deref()
        .or(result.name.as_deref())
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
    if let Some((port, protocol)) = result.port.as_deref().and_then(openvas::port) {
        finding.location.port = Some(port);
        finding.location.protocol = Some(protocol);
    }

    for (kind, id) in &result.refs {
        openvas::add_reference(&mut finding, kind, id);
    }
    for (kind, vector) in &result.vectors {
        match kind.as_str() {
            "cvss_base_v2" => shared::add_cvss_v2(&mut finding, vector),
            _ => util::add_cvss(&mut finding, vector),
        }
    }
    if let Some(vector) = tags.get("cvss_base_vector") {
        // GVM writes v3 and v4 vectors with their prefix, v2 vectors bare.
        if vector.starts_with("CVSS:") {
            util::add_cvss(&mut finding, vector);
        } else {
            shared::add_cvss_v2(&mut finding, vector);
        }
    }
    finding.severity = openvas::severity(result.threat.as_deref(), result.score.as_deref(), &finding);
    finding.source_status = openvas::source_status(result.threat.as_deref());

    finding.description = NvtTexts {
        summary: tags.get("summary"),
        impact: tags.get("impact"),
        insight: tags.get("insight"),
        affected: tags.get("affected"),
        detection: tags.get("vuldetect"),
    }
    .description();
    finding.fix.description = result
        .solution
        .as_deref()
        .or(tags.get("solution"))
        .map(shared::unwrap_prose)
        .and_then(|text| shared::long_text(&text));
    if let Some(evidence) = &result.evidence {
        finding.evidence = shared::evidence(&evidence.text, evidence.total_bytes);
    }

    let port_text = result.port.as_deref().filter(|port| openvas::port(port).is_none());
    let original_threat = result
        .original_threat
        .as_deref()
        .filter(|original| Some(*original) != result.threat.as_deref());
    let attributes = [
        ("nvt_family", result.family.as_deref()),
        (
            "solution_type",
            result.solution_type.as_deref().or(tags.get("solution_type")),
        ),
        ("cvss_base_score", result.cvss_base.as_deref()),
        ("severity_score", result.score.as_deref()),
        ("threat", result.threat.as_deref()),
        ("original_threat", original_threat),
        ("qod", result.qod.as_deref()),
        ("epss_score", result.epss_score.as_deref()),
        ("epss_percentile", result.epss_percentile.as_deref()),
        ("result_id", result.id.as_deref()),
        ("port", port_text),
    ];
    for (name, value) in attributes {
        if let Some(value) = value.filter(|value| !value.trim().is_empty()) {
            finding.attributes.insert(name.into(), value.trim().to_string());
        }
    }
    Ok(finding)
}

/// The `<tags>` of an NVT: `name=value` pairs separated by `|`.
struct Tags<'t> {
    pairs: Vec<(&'t str, String)>,
}

impl<'t> Tags<'t> {
    /// Parses tags. A value may itself contain `|`: a part that does not
    /// start with a tag name and `=` continues the previous value.
    fn parse(text: &'t str) -> Tags<'t> {
        let mut pairs: Vec<(&'t str, String)> = Vec::new();
        for part in text.split('|') {
            let named = part
                .split_once('=')
                .filter(|(name, _)| !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
            match (named, pairs.last_mut()) {
                (Some((name, value)), _) => pairs.push((name, value.to_string())),
                (None, Some((_, value))) => {
                    value.push('|');
                    value.push_str(part);
                }
                (None, None) => {}
            }
        }
        Tags { pairs }
    }

    /// Returns the trimmed value of a tag, or `None` when missing or empty.
    fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.trim())
            .filter(|value| !value.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_split_on_bars() {
        let tags = Tags::parse("cvss_base_vector=AV:N/AC:L|summary=a|x y=z|b=c|insight=");
        assert_eq!(tags.get("cvss_base_vector"), Some("AV:N/AC:L"));
        assert_eq!(
            tags.get("summary"),
            Some("a|x y=z"),
            "a part without a tag name continues the value"
        );
        assert_eq!(tags.get("b"), Some("c"));
        assert_eq!(tags.get("insight"), None);
        let tags = Tags::parse("summary=one | two|impact=three");
        assert_eq!(tags.get("summary"), Some("one | two"), "a bar inside a value stays");
        assert_eq!(tags.get("impact"), Some("three"));
    }
}
