//! Qualys VM XML reports: the scan-based and host-based Asset Data Report,
//! the scan report, and the host list detection API output.
//!
//! # Reads
//!
//! - `<ASSET_DATA_REPORT>` (Qualys VM "Scan Based Findings" and "Host
//!   Based Findings" reports): `<HOST_LIST>` > `<HOST>` (`<IP>`, `<DNS>`,
//!   `<NETBIOS>`, `<OPERATING_SYSTEM>`, `<TRACKING_METHOD>`) with
//!   `<VULN_INFO_LIST>` > `<VULN_INFO>` (`<QID>`, `<TYPE>`, `<PORT>`,
//!   `<PROTOCOL>`, `<SERVICE>`, `<FQDN>`, `<SSL>`, `<RESULT>`, the first
//!   and last found dates, `<VULN_STATUS>`, `<CVSS_FINAL>`,
//!   `<CVSS3_FINAL>`), and the `<GLOSSARY>` > `<VULN_DETAILS_LIST>` >
//!   `<VULN_DETAILS>` of each QID (`<TITLE>`, `<SEVERITY>`, `<CATEGORY>`,
//!   `<THREAT>`, `<IMPACT>`, `<SOLUTION>`, `<CVSS_SCORE>`, `<CVSS3_SCORE>`
//!   or `<CVSS3_INFO>`, `<CVE_ID_LIST>`, `<BUGTRAQ_ID_LIST>`,
//!   `<VENDOR_REFERENCE_LIST>`, `<CORRELATION>`).
//! - `<SCAN>` (the scan report of the VM scanner): `<IP value name>` with
//!   `<VULNS>`, `<PRACTICES>`, `<INFOS>` and `<SERVICES>`, each of `<CAT
//!   port protocol fqdn>` > `<VULN number severity>` (or `<PRACTICE>`,
//!   `<INFO>`, `<SERVICE>`) with `<TITLE>`, the CVSS scores, `<CVE_ID_LIST>`,
//!   `<DIAGNOSIS>`, `<CONSEQUENCE>`, `<SOLUTION>` and `<RESULT>`.
//! - `<HOST_LIST_VM_DETECTION_OUTPUT>` (the `/api/2.0/fo/asset/host/vm/
//!   detection/` API): `<HOST>` with `<DETECTION_LIST>` > `<DETECTION>`
//!   (`<QID>`, `<TYPE>`, `<SEVERITY>`, `<PORT>`, `<PROTOCOL>`, `<RESULTS>`,
//!   `<STATUS>`). It contains no knowledge base texts, so its findings are
//!   titled `Qualys QID <n>`.
//!
//! The DOCTYPE of these reports names an external DTD, which is never
//! fetched or read.
//!
//! # Field mapping
//!
//! - QID -> `rule_id`; `<TITLE>` -> `title`; kind `Vulnerability`.
//! - `<SEVERITY>` (Qualys levels 1 to 5) -> `severity`: 1 `Info`, 2 `Low`,
//!   3 `Medium`, 4 `High`, 5 `Critical`; without one, the highest CVSS
//!   vector rates it.
//! - `<CVE_ID_LIST>` -> vulnerability ids, `<BUGTRAQ_ID_LIST>` as
//!   `BID:<n>`; the vectors of `<CVSS_BASE>` (v2) and `<CVSS3_BASE>` (v3,
//!   written without prefix: CVSS 3.0 unless the report names the version)
//!   -> `cvss`.
//! - `<THREAT>` (or `<DIAGNOSIS>`) and `<IMPACT>` (or `<CONSEQUENCE>`) ->
//!   `description`, `<SOLUTION>` -> `fix.description`, both from HTML to
//!   plain text; the links of these texts and the vendor reference URLs ->
//!   `references`, and links to a CWE page -> `cwes`; `<RESULT>` -> `evidence`, cut to 4 KiB.
//! - `<PORT>` and `<PROTOCOL>` -> `location`; `<VULN_STATUS>` or `<STATUS>`
//!   -> `source_status` (`Fixed`; `New`, `Active` and `Re-Opened` as
//!   `Affected`).
//! - The detection type (`confirmed`, `potential`, `information`), the
//!   category, the CVSS scores (base, temporal, final), the PCI flag,
//!   vendor reference ids, known exploits and malware, FQDN, SSL, and the
//!   first and last found dates -> `attributes`.
//! - Assets: a host per `<HOST>` or `<IP>`, keyed by its IP address, with
//!   `ip`, `fqdn` or `hostname` and `netbios_name` identifiers and the OS
//!   as `os`; a service per port with a finding, which the host `Hosts`.
//!
//! In an Asset Data Report the glossary follows the hosts, so each host's
//! detections are held in lean form (the QID, the port, the result cut to
//! 4 KiB and a few facts) until the glossary has been read, and then sent.
//! Memory grows with the number of detections, not with the size of the
//! knowledge base texts.
//!
//! # Scope target
//!
//! `host:<ip>` for each `<HOST>` or `<IP>`, also those without detections.
//!
//! # Fingerprint
//!
//! The tool `qualys`, the QID, the host, and the port and protocol.
//!
//! # Not read yet
//!
//! The report header and target lists, asset groups, the compliance and
//! PCI sections of scan reports, `<CORRELATION>` beyond whether exploits
//! and malware are known, and the QDS score of detections beyond its
//! value.
//!
//! # Reference
//!
//! Qualys DTDs: `asset_data_report.dtd`, `scan-1.dtd` and
//! `host_list_vm_detection_output.dtd` (served by each Qualys platform),
//! and the Qualys API (VM, PC) user guide:
//! <https://docs.qualys.com/en/vm/api/index.htm>.

use std::collections::HashMap;
use std::io::BufRead;

use ctem_model::{Finding, FindingKind, Severity};
use quick_xml::events::BytesStart;

use super::host_scan_shared::hosts::{HostAssets, HostFacts, HostScope};
use super::host_scan_shared::qualys::{self, DEFAULT_CVSS3_VERSION, QidTexts, TOOL};
use super::host_scan_shared::xml_walk::{self, XmlVisitor, below, ends_with};
use super::host_scan_shared::{self as shared, BoundedText};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "qualys-xml";

/// The root elements of the Qualys reports this parser reads.
const ROOTS: [&str; 3] = ["ASSET_DATA_REPORT", "SCAN", "HOST_LIST_VM_DETECTION_OUTPUT"];

/// The Qualys XML parser.
pub struct QualysXml;

impl Parser for QualysXml {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Qualys VM XML",
            tool: "Qualys Vulnerability Management",
            versions: "ASSET_DATA_REPORT, SCAN (scan-1.dtd) and HOST_LIST_VM_DETECTION_OUTPUT reports",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        match xml_walk::root_name(head).as_deref() {
            Some("ASSET_DATA_REPORT" | "HOST_LIST_VM_DETECTION_OUTPUT") => Detection::Certain,
            Some("SCAN") if util::contains(head, b"<IP value=") || util::contains(head, b"scan-1.dtd") => {
                Detection::Certain
            }
            Some("SCAN") => Detection::Maybe,
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
            scopes: Vec::new(),
            glossary: HashMap::new(),
            glossary_read: false,
            pending: Vec::new(),
            host: None,
            detection: None,
            details: None,
        };
        xml_walk::walk(
            context,
            FORMAT_ID,
            "a Qualys report with an <ASSET_DATA_REPORT>, <SCAN> or <HOST_LIST_VM_DETECTION_OUTPUT> root element",
            reader,
            &mut visitor,
        )?;

        // Detections of an Asset Data Report without a glossary.
        for detection in std::mem::take(&mut visitor.pending) {
            let details = detection.qid.as_ref().and_then(|qid| visitor.glossary.get(qid));
            send(visitor.sink, &mut visitor.hosts, &visitor.scopes, detection, details);
        }
        Ok(())
    }
}

/// A scanned host: an Asset Data Report or detection list `<HOST>`, or a
/// scan report `<IP>`.
#[derive(Debug, Default)]
struct HostRecord {
    depth: usize,
    facts: HostFacts,
    /// The index of the host's scope in [`Report::scopes`], once declared.
    scope: Option<usize>,
    /// The `<CAT>` of a scan report being read.
    category: Option<Category>,
}

/// A scan report `<CAT>`: the port and category of the items in it.
#[derive(Debug, Default, Clone)]
struct Category {
    name: Option<String>,
    port: Option<u16>,
    protocol: Option<String>,
    fqdn: Option<String>,
}

/// One detection in lean form, held until its QID's details are known.
#[derive(Debug, Default)]
struct DetectionRecord {
    depth: usize,
    /// The index of the host's scope in [`Report::scopes`].
    host: usize,
    qid: Option<String>,
    detection_type: Option<&'static str>,
    severity: Option<String>,
    port: Option<u16>,
    protocol: Option<String>,
    service: Option<String>,
    status: Option<String>,
    /// The result, already cut to the evidence size.
    evidence: Option<String>,
    /// Facts kept as attributes.
    facts: Vec<(&'static str, String)>,
}

/// The knowledge base facts of a QID: an Asset Data Report glossary entry,
/// or the texts of a scan report item.
#[derive(Debug, Default)]
struct QidDetails {
    depth: usize,
    qid: Option<String>,
    title: Option<String>,
    severity: Option<String>,
    threat: Option<String>,
    impact: Option<String>,
    solution: Option<String>,
    /// CVE ids, or lists of them (the `cveid` attribute of scan reports).
    cves: Vec<String>,
    bugtraq_ids: Vec<String>,
    vendor_references: Vec<String>,
    reference_urls: Vec<String>,
    /// CVSS elements as (path below the details, text), read once the
    /// CVSS v3 version is known.
    cvss: Vec<(String, String)>,
    cvss3_version: Option<String>,
    exploits: usize,
    malware: usize,
    facts: Vec<(&'static str, String)>,
}

/// The walk's state.
struct Report<'s> {
    sink: &'s mut dyn Sink,
    hosts: HostAssets,
    scopes: Vec<HostScope>,
    glossary: HashMap<String, QidDetails>,
    /// Whether detections can be sent as they are read: after the glossary
    /// of an Asset Data Report, and always in the other reports.
    glossary_read: bool,
    pending: Vec<DetectionRecord>,
    host: Option<HostRecord>,
    detection: Option<DetectionRecord>,
    details: Option<QidDetails>,
}

impl XmlVisitor for Report<'_> {
    fn root(&mut self, element: &BytesStart<'_>) -> Result<(), String> {
        let name = String::from_utf8_lossy(element.name().as_ref()).into_owned();
        if !ROOTS.contains(&name.as_str()) {
            return Err(format!(
                "not a Qualys report: expected the root element <ASSET_DATA_REPORT>, <SCAN> or \
                 <HOST_LIST_VM_DETECTION_OUTPUT>, found <{name}>"
            ));
        }
        // Only the Asset Data Report keeps the QID details apart, after the hosts.
        self.glossary_read = name != "ASSET_DATA_REPORT";
        Ok(())
    }

    fn open(&mut self, path: &[String], element: &BytesStart<'_>) -> Result<bool, String> {
        let depth = path.len() - 1;
        if self.details.is_some() || self.detection.is_some() {
            return Ok(true);
        }

        let attribute = |name: &str| util::xml_attribute(element, name).and_then(|v| util::non_empty(Some(&v)));
        if ends_with(path, &["VULN_DETAILS_LIST", "VULN_DETAILS"]) {
            self.details = Some(QidDetails {
                depth,
                qid: attribute("id").map(|id| id.trim_start_matches("qid_").to_string()),
                ..QidDetails::default()
            });
            return Ok(false);
        }
        if ends_with(path, &["HOST_LIST", "HOST"]) || ends_with(path, &["SCAN", "IP"]) {
            self.host = Some(HostRecord {
                depth,
                facts: HostFacts::new(attribute("value").as_deref(), attribute("name").as_deref()),
                ..HostRecord::default()
            });
            return Ok(false);
        }

        let Some(host) = &mut self.host else {
            return Ok(false);
        };
        let relative = below(path, host.depth);
        match relative.as_str() {
            "VULN_INFO_LIST" | "DETECTION_LIST" | "VULNS" | "PRACTICES" | "INFOS" | "SERVICES" => {
                self.start_host()?;
                Ok(false)
            }
            "VULN_INFO_LIST/VULN_INFO" | "DETECTION_LIST/DETECTION" => {
                let host = self.start_host()?;
                self.detection = Some(DetectionRecord {
                    depth,
                    host,
                    ..DetectionRecord::default()
                });
                Ok(false)
            }
            "VULNS/CAT" | "PRACTICES/CAT" | "INFOS/CAT" | "SERVICES/CAT" => {
                host.category = Some(Category {
                    name: attribute("value"),
                    port: attribute("port")
                        .and_then(|port| port.parse().ok())
                        .filter(|port| *port > 0),
                    protocol: attribute("protocol").map(|protocol| protocol.to_ascii_lowercase()),
                    fqdn: attribute("fqdn"),
                });
                Ok(false)
            }
            "VULNS/CAT/VULN" | "PRACTICES/CAT/PRACTICE" | "INFOS/CAT/INFO" | "SERVICES/CAT/SERVICE" => {
                let category = host.category.clone().unwrap_or_default();
                let container = relative.split('/').next().unwrap_or_default();
                let host = self.start_host()?;
                self.detection = Some(scan_item(depth, host, container, category));
                self.details = Some(QidDetails {
                    depth,
                    qid: attribute("number"),
                    severity: attribute("severity"),
                    cves: attribute("cveid").into_iter().collect(),
                    ..QidDetails::default()
                });
                Ok(false)
            }
            _ => Ok(true),
        }
    }

    fn close(&mut self, path: &[String], text: Option<BoundedText>) -> Result<(), String> {
        let depth = path.len() - 1;

        if let Some(details) = &mut self.details {
            if depth > details.depth {
                let relative = below(path, details.depth);
                match (&mut self.detection, relative.as_str()) {
                    // A scan report item keeps its result among its details.
                    (Some(detection), "RESULT") => detection.set_evidence(text),
                    _ => details.close_child(&relative, text),
                }
                return Ok(());
            }
            let details = self.details.take().unwrap_or_default();
            match self.detection.take() {
                Some(mut detection) => {
                    detection.qid = details.qid.clone();
                    self.finish_detection(detection, Some(details))?;
                }
                None => {
                    let qid = details.qid.clone().ok_or("a <VULN_DETAILS> has no QID")?;
                    self.glossary.insert(qid, details);
                }
            }
            return Ok(());
        }

        if let Some(detection) = &mut self.detection {
            if depth > detection.depth {
                detection.close_child(&below(path, detection.depth), text);
                return Ok(());
            }
            if let Some(detection) = self.detection.take() {
                self.finish_detection(detection, None)?;
            }
            return Ok(());
        }

        if path.last().is_some_and(|name| name == "GLOSSARY") {
            self.glossary_read = true;
            for detection in std::mem::take(&mut self.pending) {
                let details = detection.qid.as_ref().and_then(|qid| self.glossary.get(qid));
                send(self.sink, &mut self.hosts, &self.scopes, detection, details);
            }
            return Ok(());
        }

        if let Some(host) = &mut self.host {
            if depth > host.depth {
                host.close_child(&below(path, host.depth), text);
                return Ok(());
            }
            self.start_host()?;
            self.host = None;
        }
        Ok(())
    }
}

impl Report<'_> {
    /// Declares the scope of the host being read, once, and returns its
    /// index in [`Report::scopes`].
    fn start_host(&mut self) -> Result<usize, String> {
        let Some(host) = &mut self.host else {
            return Err("a detection outside of a host".to_string());
        };
        if let Some(index) = host.scope {
            return Ok(index);
        }
        let scope = self
            .hosts
            .host(self.sink, &host.facts)
            .ok_or("a host has no IP address: expected <IP> in <HOST>, or <IP value=\"...\"> in a scan report")?;
        self.scopes.push(scope);
        let index = self.scopes.len() - 1;
        host.scope = Some(index);
        Ok(index)
    }

    /// Sends a detection whose details are known, or keeps it until the
    /// glossary has been read. `details` are those of a scan report item.
    fn finish_detection(&mut self, detection: DetectionRecord, details: Option<QidDetails>) -> Result<(), String> {
        let Some(qid) = detection.qid.clone() else {
            return Err(
                "a detection has no QID: expected <QID> in <VULN_INFO> or <DETECTION>, or the \
                        number attribute of a scan report item"
                    .to_string(),
            );
        };
        match details {
            Some(details) => send(self.sink, &mut self.hosts, &self.scopes, detection, Some(&details)),
            None if self.glossary_read => {
                let details = self.glossary.get(&qid);
                send(self.sink, &mut self.hosts, &self.scopes, detection, details);
            }
            None => self.pending.push(detection),
        }
        Ok(())
    }
}

impl HostRecord {
    fn close_child(&mut self, relative: &str, text: Option<BoundedText>) {
        if relative.ends_with("/CAT") {
            self.category = None;
            return;
        }
        let Some(value) = text.and_then(|text| text.non_empty()) else {
            return;
        };
        let facts = &mut self.facts;
        match relative {
            "IP" => facts.ip = Some(value),
            "DNS_DATA/FQDN" => facts.name = Some(value),
            "DNS" | "DNS_DATA/HOSTNAME" if facts.name.is_none() => facts.name = Some(value),
            "NETBIOS" | "NETBIOS_HOSTNAME" => facts.netbios = Some(value),
            "OPERATING_SYSTEM" | "OS" => facts.os = Some(value),
            "TRACKING_METHOD" => facts.attributes.push(("tracking_method", value)),
            _ => {}
        }
    }
}

impl DetectionRecord {
    fn set_evidence(&mut self, text: Option<BoundedText>) {
        self.evidence = text.and_then(|text| shared::evidence(&text.text, text.total_bytes));
    }

    fn close_child(&mut self, relative: &str, text: Option<BoundedText>) {
        if matches!(relative, "RESULT" | "RESULTS") {
            self.set_evidence(text);
            return;
        }
        let Some(value) = text.and_then(|text| text.non_empty()) else {
            return;
        };
        match relative {
            "QID" => self.qid = Some(value),
            "TYPE" => self.detection_type = qualys::detection_type(&value),
            "SEVERITY" => self.severity = Some(value),
            "PORT" => self.port = value.parse().ok().filter(|port| *port > 0),
            "PROTOCOL" => self.protocol = Some(value.to_ascii_lowercase()),
            "SERVICE" => self.service = Some(value),
            "VULN_STATUS" | "STATUS" => self.status = Some(value),
            _ => {
                let name = match relative {
                    "FQDN" => "fqdn",
                    "SSL" => "ssl",
                    "FIRST_FOUND" | "FIRST_FOUND_DATETIME" => "first_found",
                    "LAST_FOUND" | "LAST_FOUND_DATETIME" => "last_found",
                    "LAST_FIXED_DATETIME" => "last_fixed",
                    "TIMES_FOUND" => "times_found",
                    "CVSS_FINAL" => "cvss_final",
                    "CVSS3_FINAL" => "cvss3_final",
                    "UNIQUE_VULN_ID" => "unique_vuln_id",
                    "QDS" => "qds",
                    _ => return,
                };
                if !shared::is_placeholder(&value) {
                    self.facts.push((name, value));
                }
            }
        }
    }
}

impl QidDetails {
    fn close_child(&mut self, relative: &str, text: Option<BoundedText>) {
        if relative.ends_with("EXPLT_LIST/EXPLT") {
            self.exploits += 1;
            return;
        }
        if relative.ends_with("MW_LIST/MW_INFO") {
            self.malware += 1;
            return;
        }
        let Some(value) = text.and_then(|text| text.non_empty()) else {
            return;
        };
        match relative {
            "QID" => self.qid = Some(value),
            "TITLE" => self.title = Some(value),
            "SEVERITY" => self.severity = Some(value),
            "THREAT" | "DIAGNOSIS" => self.threat = Some(value),
            "IMPACT" | "CONSEQUENCE" => self.impact = Some(value),
            "SOLUTION" => self.solution = Some(value),
            "CATEGORY" => self.facts.push(("category", value)),
            "PCI_FLAG" => self.facts.push(("pci_flag", value)),
            "LAST_UPDATE" => self.facts.push(("last_update", value)),
            "CVE_ID_LIST/CVE_ID/ID" => self.cves.push(value),
            "BUGTRAQ_ID_LIST/BUGTRAQ_ID/ID" => self.bugtraq_ids.push(value),
            "VENDOR_REFERENCE_LIST/VENDOR_REFERENCE/ID" => self.vendor_references.push(value),
            "VENDOR_REFERENCE_LIST/VENDOR_REFERENCE/URL" => self.reference_urls.push(value),
            _ if relative.starts_with("CVSS") && relative.contains("VERSION") => self.cvss3_version = Some(value),
            _ if relative.starts_with("CVSS") => self.cvss.push((relative.to_string(), value)),
            _ => {}
        }
    }
}

/// Starts the detection of a scan report item (`<VULN>`, `<PRACTICE>`,
/// `<INFO>` or `<SERVICE>`) in a `<CAT>` of a container (`VULNS`,
/// `PRACTICES`, `INFOS`, `SERVICES`).
fn scan_item(depth: usize, host: usize, container: &str, category: Category) -> DetectionRecord {
    let detection_type = match container {
        "VULNS" => "confirmed",
        "PRACTICES" => "potential",
        _ => "information",
    };
    let mut facts = Vec::new();
    if let Some(name) = category.name {
        facts.push(("scan_category", name));
    }
    if let Some(fqdn) = category.fqdn {
        facts.push(("fqdn", fqdn));
    }
    DetectionRecord {
        depth,
        host,
        detection_type: Some(detection_type),
        port: category.port,
        protocol: category.protocol,
        facts,
        ..DetectionRecord::default()
    }
}

/// Sends the finding of a detection, with the details of its QID where the
/// report has them, and the service of its port.
fn send(
    sink: &mut dyn Sink,
    hosts: &mut HostAssets,
    scopes: &[HostScope],
    detection: DetectionRecord,
    details: Option<&QidDetails>,
) {
    let Some(scope) = scopes.get(detection.host) else {
        return;
    };
    let protocol = detection.protocol.clone().unwrap_or_else(|| "tcp".to_string());
    if let Some(port) = detection.port {
        hosts.service(sink, scope, port, &protocol, detection.service.as_deref());
    }
    sink.finding(finding(scope, detection, details));
}

/// Builds the finding of a detection.
fn finding(scope: &HostScope, detection: DetectionRecord, details: Option<&QidDetails>) -> Finding {
    let empty = QidDetails::default();
    let details = details.unwrap_or(&empty);
    let qid = detection.qid.clone().unwrap_or_default();
    let title = details.title.clone().unwrap_or_else(|| format!("Qualys QID {qid}"));
    let mut finding = Finding::new(
        TOOL,
        qid,
        FindingKind::Vulnerability,
        title,
        Severity::Info,
        scope.key.clone(),
    );
    finding.target = Some(scope.target.clone());
    if let Some(port) = detection.port {
        finding.location.port = Some(port);
        finding.location.protocol = Some(detection.protocol.clone().unwrap_or_else(|| "tcp".to_string()));
    }

    for cve in details.cves.iter().flat_map(|cves| shared::list_items(cves)) {
        util::add_vulnerability_id(&mut finding, cve);
    }
    for bid in &details.bugtraq_ids {
        util::add_vulnerability_id(&mut finding, &format!("BID:{bid}"));
    }
    let v3_version = details.cvss3_version.as_deref().unwrap_or(DEFAULT_CVSS3_VERSION);
    for (path, text) in &details.cvss {
        let v3 = path.contains("CVSS3") || path.contains("CVSS_V3");
        let leaf = path.rsplit('/').next().unwrap_or_default();
        let name = match (v3, leaf.contains("TEMPORAL")) {
            (true, true) => "cvss3_temporal",
            (false, true) => "cvss_temporal",
            (true, false) => "cvss3_base_score",
            (false, false) => "cvss_base_score",
        };
        if leaf.contains("TEMPORAL") {
            finding.attributes.insert(name.into(), text.clone());
        } else if let Some(score) = qualys::add_cvss(&mut finding, text, v3.then_some(v3_version)) {
            finding.attributes.insert(name.into(), score);
        }
    }
    let level = details.severity.as_deref().or(detection.severity.as_deref());
    finding.severity = level
        .and_then(shared::qualys_severity)
        .unwrap_or_else(|| util::severity_or_cvss(None, &finding));
    finding.source_status = detection.status.as_deref().and_then(qualys::source_status);

    let plain = QidTexts {
        threat: details.threat.as_deref(),
        impact: details.impact.as_deref(),
        solution: details.solution.as_deref(),
    }
    .plain();
    finding.description = plain.description;
    finding.fix.description = plain.solution;
    let links = plain.links.into_iter().chain(details.reference_urls.iter().cloned());
    qualys::add_links(&mut finding, links);
    finding.evidence = detection.evidence;

    let mut attributes: Vec<(&str, String)> = Vec::new();
    attributes.extend(detection.detection_type.map(|kind| ("qualys_type", kind.to_string())));
    attributes.extend(level.map(|level| ("qualys_severity", level.to_string())));
    attributes.extend(detection.status.map(|status| ("vuln_status", status)));
    attributes.extend(detection.service.map(|service| ("service", service)));
    attributes.extend(detection.facts);
    attributes.extend(details.facts.iter().cloned());
    if !details.vendor_references.is_empty() {
        attributes.push(("vendor_references", details.vendor_references.join(", ")));
    }
    if details.exploits > 0 {
        attributes.push(("known_exploits", details.exploits.to_string()));
    }
    if details.malware > 0 {
        attributes.push(("known_malware", details.malware.to_string()));
    }
    for (name, value) in attributes {
        finding.attributes.insert(name.into(), value);
    }
    finding
}
