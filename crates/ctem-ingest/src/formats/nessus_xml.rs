//! Nessus v2 XML reports (`.nessus`), from Nessus, Tenable.io and
//! Tenable.sc, and the Tenable Web App Scanning (WAS) export in the same
//! structure.
//!
//! # Reads
//!
//! `<NessusClientData_v2>` > `<Report>` > `<ReportHost name>` with its
//! `<HostProperties>` (`<tag name="host-ip">` ...) and `<ReportItem>`s
//! (attributes `port`, `svc_name`, `protocol`, `severity`, `pluginID`,
//! `pluginName`, `pluginFamily`, and one child element per plugin field).
//! The `<Policy>` is skipped. Tenable WAS exports use the same elements
//! with `<Report type="was">`, a URL as the host name and CVSS scores
//! without vectors.
//!
//! # Field mapping
//!
//! - `pluginID` -> `rule_id`; `pluginName` -> `title` (an open port of the
//!   `Port scanners` family is titled `Open port: <port>/<protocol>`).
//! - Kind: `ExposedService` for the families `Port scanners` and `Service
//!   detection` on a port, `WebWeakness` for Tenable WAS, `Vulnerability`
//!   otherwise (informational plugins included, with severity `Info`).
//! - `severity` attribute (0 `Info` to 4 `Critical`) -> `severity`: it
//!   follows the scan's severity basis and recast rules, so it wins over
//!   `risk_factor`, which is the fallback, and then the highest CVSS score.
//! - `cve` -> vulnerability ids, and `bid` and the `xref`s of advisory
//!   namespaces (`IAVA`, `IAVB`, `IAVT`, `CERT`, `MSFT`, `EDB-ID`, ...) as
//!   `NAMESPACE:value`; `cwe` and `xref` `CWE:n` -> `cwes`.
//! - `cvss_vector` (its `CVSS2#` prefix removed), `cvss3_vector` and
//!   `cvss4_vector` -> `cvss`.
//! - `description` -> `description`; `solution` -> `fix.description`;
//!   `see_also` (one URL per line) -> `references`; `plugin_output` ->
//!   `evidence`, cut to 4 KiB with a line that gives the size kept.
//! - `port` and `protocol` -> `location` (port 0 means none); for Tenable
//!   WAS the first URL of `plugin_output` -> `location.url`.
//! - `synopsis`, `pluginFamily`, `svc_name`, `risk_factor`, the CVSS base
//!   scores, `exploit_available`, `exploited_by_malware`, `in_the_news`,
//!   `patch_publication_date` and the VPR score -> `attributes`.
//! - Assets: a host per `ReportHost`, keyed by `host-ip` (else the
//!   `ReportHost` name), with `ip`, `fqdn`, `hostname`, `netbios_name` and
//!   `mac` identifiers and the `operating-system` as `os`. Each port that a
//!   plugin reports is a service keyed `<ip>:<port>/<protocol>`, which the
//!   host `Hosts`. A Tenable WAS host is a web application keyed by its URL.
//!
//! # Scope target
//!
//! `host:<ip>` for each `ReportHost` (the key of its host asset), so that a
//! rescan of one host closes only that host's findings; `web_app:<url>` for
//! a Tenable WAS application.
//!
//! # Fingerprint
//!
//! The tool (`nessus`, or `tenable-was`), the plugin id, the host or web
//! application, the port and protocol, and for Tenable WAS the URL.
//!
//! # Not read yet
//!
//! `<Policy>`, host properties other than the identifiers above (CPEs,
//! traceroute, patch summaries), temporal CVSS vectors, `plugin_type`,
//! `cpe` of items, and the Tenable.sc compliance (`cm:`) elements beyond
//! their text.
//!
//! # Reference
//!
//! Tenable, "Nessus File Format" (the `.nessus` v2 schema):
//! <https://static.tenable.com/documentation/nessus_v2_file_format.pdf>.

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::BufRead;

use ctem_model::{Asset, AssetKey, AssetKind, Finding, FindingKind, Relationship, RelationshipKind, Severity};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Position, Sink, util};

const FORMAT_ID: &str = "nessus-xml";
const NESSUS: &str = "nessus";
const TENABLE_WAS: &str = "tenable-was";
/// The maximum size in bytes of `plugin_output` kept as evidence.
const EVIDENCE_BYTES: usize = 4096;
/// The maximum size in bytes of one plugin field kept while reading, so
/// that a huge `plugin_output` cannot fill the memory. Longer text is
/// counted but not kept.
const FIELD_BYTES: usize = 256 * 1024;
/// `xref` namespaces that name advisories or vulnerabilities, kept as
/// vulnerability ids. Others (`CWE`, `OWASP`, `WASC`) classify weaknesses.
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
    "USN",
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

/// The Nessus v2 XML parser.
pub struct NessusXml;

impl Parser for NessusXml {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Nessus v2 XML",
            tool: "Nessus, Tenable.io, Tenable.sc, Tenable Web App Scanning",
            versions: "NessusClientData_v2 (.nessus)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        if util::contains(head, b"<NessusClientData_v2") {
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
        let mut reader = Reader::from_reader(reader);
        let mut state = State {
            sink,
            assets: HashSet::new(),
            web_report: false,
            host: None,
            item: None,
            field: None,
            tag: None,
        };
        let mut buffer = Vec::new();
        let mut depth: usize = 0;
        let mut root_seen = false;

        loop {
            let position = reader.buffer_position();
            let event = reader
                .read_event_into(&mut buffer)
                .map_err(|error| ParseError::from_xml(context.path, FORMAT_ID, reader.error_position(), &error))?;
            let fail =
                |message: String| ParseError::new(context.path, FORMAT_ID, Some(Position::Byte(position)), message);
            match event {
                Event::Start(element) => {
                    if !root_seen {
                        check_root(&element).map_err(fail)?;
                        root_seen = true;
                    }
                    depth += 1;
                    state.open(&element);
                }
                Event::Empty(element) => {
                    if !root_seen {
                        check_root(&element).map_err(fail)?;
                        root_seen = true;
                    }
                    state.open(&element);
                    state.close(element.name().as_ref());
                }
                Event::End(element) => {
                    depth = depth.saturating_sub(1);
                    state.close(element.name().as_ref());
                }
                Event::Text(text) => {
                    if state.capturing() {
                        let text = text.decode().map_err(|error| fail(format!("invalid text: {error}")))?;
                        state.text(&text);
                    }
                }
                Event::CData(data) => {
                    if state.capturing() {
                        let data = data.decode().map_err(|error| fail(format!("invalid CDATA: {error}")))?;
                        state.text(&data);
                    }
                }
                Event::GeneralRef(reference) => {
                    if state.capturing() {
                        let name = reference
                            .decode()
                            .map_err(|error| fail(format!("invalid reference: {error}")))?;
                        state.text(&util::xml_reference(&name));
                    }
                }
                // A DTD is never read, so the entities it declares stay
                // unexpanded references.
                Event::DocType(_) | Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => break,
            }
            buffer.clear();
        }

        let end = reader.buffer_position();
        let at_end = |message: &str| ParseError::new(context.path, FORMAT_ID, Some(Position::Byte(end)), message);
        if !root_seen {
            return Err(at_end(
                "no XML element found: expected a Nessus v2 report with a <NessusClientData_v2> root element",
            ));
        }
        if depth > 0 {
            return Err(at_end("the file ends inside an open element, it may be truncated"));
        }
        Ok(())
    }
}

/// Checks the root element: `<NessusClientData_v2>`.
fn check_root(element: &BytesStart<'_>) -> Result<(), String> {
    let name = String::from_utf8_lossy(element.name().as_ref()).into_owned();
    match name.as_str() {
        "NessusClientData_v2" => Ok(()),
        "NessusClientData" => Err(
            "unsupported Nessus v1 report (<NessusClientData>): this parser reads the v2 format; export the \
             scan again as .nessus (v2)"
                .to_string(),
        ),
        _ => Err(format!(
            "not a Nessus v2 report: expected the root element <NessusClientData_v2>, found <{name}>"
        )),
    }
}

/// The `<ReportItem>` children that the mapping reads. The others (`fname`,
/// `agent`, `plugin_type`, dates ...) are skipped without decoding their
/// text, which saves a fifth of the parse of a large report.
const READ_FIELDS: [&str; 24] = [
    "bid",
    "cve",
    "cvss",
    "cvss3_base_score",
    "cvss3_vector",
    "cvss4_vector",
    "cvss_base_score",
    "cvss_vector",
    "cvssv3",
    "cwe",
    "description",
    "epss_score",
    "exploit_available",
    "exploited_by_malware",
    "in_the_news",
    "patch_publication_date",
    "plugin_name",
    "plugin_output",
    "risk_factor",
    "see_also",
    "solution",
    "synopsis",
    "vpr_score",
    "xref",
];

/// A text field being read, with its size when it was longer than kept.
#[derive(Debug, Default)]
struct Field {
    /// The element name: one of [`READ_FIELDS`] for a `<ReportItem>`
    /// child, so that no name is allocated per item, or a `<tag>` name.
    name: Cow<'static, str>,
    text: String,
    total_bytes: usize,
    /// A child of a `<ReportItem>` that the mapping does not read.
    ignored: bool,
}

impl Field {
    fn push(&mut self, text: &str) {
        self.total_bytes += text.len();
        let room = FIELD_BYTES.saturating_sub(self.text.len());
        if room >= text.len() {
            self.text.push_str(text);
        } else {
            let mut end = room;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            self.text.push_str(&text[..end]);
        }
    }
}

/// One `<ReportItem>`: its attributes and child fields.
#[derive(Debug, Default)]
struct Item {
    plugin_id: String,
    plugin_name: Option<String>,
    family: Option<String>,
    severity: Option<String>,
    port: Option<u16>,
    protocol: Option<String>,
    service: Option<String>,
    fields: Vec<Field>,
}

impl Item {
    fn first(&self, name: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|field| field.name == name)
            .and_then(|field| util::non_empty(Some(&field.text)))
    }

    fn all<'i>(&'i self, name: &'i str) -> impl Iterator<Item = &'i str> + 'i {
        self.fields
            .iter()
            .filter(move |field| field.name == name)
            .map(|field| field.text.trim())
            .filter(|text| !text.is_empty())
    }
}

/// The destination of a `ReportHost`'s findings, once its properties are
/// read.
#[derive(Debug)]
struct HostScope {
    key: AssetKey,
    target: String,
    /// The address that service assets are keyed by.
    address: String,
    web: bool,
}

/// One `<ReportHost>` being read.
#[derive(Debug, Default)]
struct Host {
    name: String,
    properties: Vec<(String, String)>,
    scope: Option<HostScope>,
    /// Items read before the host properties, sent once they are known.
    pending: Vec<Item>,
}

/// The reader's place in the document and the records being built.
struct State<'a> {
    sink: &'a mut dyn Sink,
    assets: HashSet<AssetKey>,
    /// Whether the `<Report>` is a Tenable WAS export.
    web_report: bool,
    host: Option<Host>,
    item: Option<Item>,
    /// The child of a `<ReportItem>` being read.
    field: Option<Field>,
    /// The `<tag name>` of the host properties being read, and its text.
    tag: Option<Field>,
}

impl State<'_> {
    /// Returns whether text events belong to a field being read.
    fn capturing(&self) -> bool {
        self.field.as_ref().is_some_and(|field| !field.ignored) || self.tag.is_some()
    }

    fn text(&mut self, text: &str) {
        if let Some(field) = &mut self.field {
            if !field.ignored {
                field.push(text);
            }
        } else if let Some(tag) = &mut self.tag {
            tag.push(text);
        }
    }

    fn open(&mut self, element: &BytesStart<'_>) {
        let attribute = |name: &str| util::xml_attribute(element, name).and_then(|v| util::non_empty(Some(&v)));
        let name = element.name();
        if self.item.is_some() {
            // Every element inside a ReportItem is one plugin field.
            if self.field.is_none() {
                let read = READ_FIELDS.iter().find(|field| field.as_bytes() == name.as_ref());
                self.field = Some(Field {
                    name: Cow::Borrowed(read.copied().unwrap_or_default()),
                    ignored: read.is_none(),
                    ..Field::default()
                });
            }
            return;
        }
        match name.as_ref() {
            b"Report" => {
                self.web_report = attribute("type").is_some_and(|kind| kind.eq_ignore_ascii_case("was"));
            }
            b"ReportHost" => {
                self.host = Some(Host {
                    name: attribute("name").unwrap_or_default(),
                    ..Host::default()
                });
            }
            b"tag" if self.host.is_some() => {
                self.tag = Some(Field {
                    name: Cow::Owned(attribute("name").unwrap_or_default()),
                    ..Field::default()
                });
            }
            b"ReportItem" if self.host.is_some() => {
                self.item = Some(Item {
                    plugin_id: attribute("pluginID").unwrap_or_default(),
                    plugin_name: attribute("pluginName"),
                    family: attribute("pluginFamily"),
                    severity: attribute("severity"),
                    port: attribute("port")
                        .and_then(|port| port.parse().ok())
                        .filter(|port| *port > 0),
                    protocol: attribute("protocol").map(|protocol| protocol.to_ascii_lowercase()),
                    service: attribute("svc_name"),
                    fields: Vec::new(),
                });
            }
            _ => {}
        }
    }

    fn close(&mut self, name: &[u8]) {
        if name == b"ReportItem" {
            if let Some(item) = self.item.take() {
                self.item_done(item);
            }
            return;
        }
        if self.item.is_some() {
            if let (Some(field), Some(item)) = (self.field.take(), &mut self.item)
                && !field.ignored
            {
                item.fields.push(field);
            }
            return;
        }
        match name {
            b"tag" => {
                if let (Some(tag), Some(host)) = (self.tag.take(), &mut self.host) {
                    host.properties
                        .push((tag.name.into_owned(), tag.text.trim().to_string()));
                }
            }
            b"HostProperties" => {
                if let Some(mut host) = self.host.take() {
                    self.start_host(&mut host);
                    self.host = Some(host);
                }
            }
            b"ReportHost" => {
                if let Some(mut host) = self.host.take() {
                    self.start_host(&mut host);
                    for item in std::mem::take(&mut host.pending) {
                        self.send_item(&host, item);
                    }
                }
            }
            _ => {}
        }
    }

    fn item_done(&mut self, item: Item) {
        let Some(mut host) = self.host.take() else {
            return;
        };
        if host.scope.is_some() {
            self.send_item(&host, item);
        } else {
            host.pending.push(item);
        }
        self.host = Some(host);
    }

    /// Declares the host's scope and sends its asset, once its properties
    /// are read.
    fn start_host(&mut self, host: &mut Host) {
        if host.scope.is_some() {
            return;
        }
        let property = |name: &str| {
            host.properties
                .iter()
                .find(|(key, _)| key == name)
                .and_then(|(_, value)| util::non_empty(Some(value)))
        };
        let web = self.web_report
            || property("system-type").as_deref() == Some("web_application")
            || host.name.starts_with("http://")
            || host.name.starts_with("https://");

        let asset = if web {
            let url = util::non_empty(Some(&host.name))
                .or_else(|| property("host-fqdn"))
                .unwrap_or_default();
            let mut asset = Asset::new(AssetKind::WebApp, &url, url.clone());
            asset.add_identifier("url", url.clone());
            asset
        } else {
            let address = property("host-ip")
                .or_else(|| util::non_empty(Some(&host.name)))
                .unwrap_or_default();
            let name = property("host-fqdn")
                .or_else(|| property("hostname"))
                .or_else(|| property("netbios-name"))
                .unwrap_or_else(|| address.clone());
            let mut asset = Asset::new(AssetKind::Host, &address, name);
            if let Some(ip) = property("host-ip") {
                asset.add_identifier("ip", ip);
            }
            if let Some(fqdn) = property("host-fqdn") {
                asset.add_identifier("fqdn", fqdn.to_ascii_lowercase());
            }
            if let Some(hostname) = property("hostname") {
                asset.add_identifier("hostname", hostname.to_ascii_lowercase());
            }
            if let Some(netbios) = property("netbios-name") {
                asset.add_identifier("netbios_name", netbios);
            }
            // Nessus lists one MAC address per line.
            for mac in property("mac-address").iter().flat_map(|macs| macs.lines()) {
                if let Some(mac) = util::non_empty(Some(mac)) {
                    asset.add_identifier("mac", mac.to_ascii_lowercase());
                }
            }
            asset
        };
        let mut asset = asset;
        for (property_name, attribute) in [("operating-system", "os"), ("system-type", "system_type")] {
            if let Some(value) = property(property_name) {
                asset.attributes.insert(attribute.into(), value);
            }
        }

        let key = asset.key.clone();
        let target = key.to_string();
        self.sink.target(if web { TENABLE_WAS } else { NESSUS }, &target);
        if self.assets.insert(key.clone()) {
            self.sink.asset(asset);
        }
        host.scope = Some(HostScope {
            address: key.identifier().to_string(),
            key,
            target,
            web,
        });
    }

    fn send_item(&mut self, host: &Host, item: Item) {
        let Some(scope) = &host.scope else {
            return;
        };
        if let Some(port) = item.port.filter(|_| !scope.web) {
            self.service_asset(scope, port, &item);
        }
        self.sink.finding(finding(scope, item));
    }

    /// Sends the service on a port of a host, once.
    fn service_asset(&mut self, scope: &HostScope, port: u16, item: &Item) {
        let protocol = item.protocol.clone().unwrap_or_else(|| "tcp".to_string());
        let identifier = format!("{}:{port}/{protocol}", scope.address);
        let mut asset = Asset::new(AssetKind::Service, &identifier, identifier.clone());
        if !self.assets.insert(asset.key.clone()) {
            return;
        }
        if let Some(service) = &item.service {
            asset.attributes.insert("service".into(), service.clone());
        }
        let mut relationship = Relationship::new(scope.key.clone(), RelationshipKind::Hosts, asset.key.clone());
        relationship.port = Some(port);
        relationship.protocol = Some(protocol);
        self.sink.asset(asset);
        self.sink.relationship(relationship);
    }
}

/// Builds the finding of one `ReportItem`.
fn finding(scope: &HostScope, item: Item) -> Finding {
    let family = item.family.as_deref().unwrap_or_default();
    let kind = if scope.web {
        FindingKind::WebWeakness
    } else if item.port.is_some() && (family == "Port scanners" || family == "Service detection") {
        FindingKind::ExposedService
    } else {
        FindingKind::Vulnerability
    };
    let plugin_name = item
        .plugin_name
        .clone()
        .or_else(|| item.first("plugin_name"))
        .unwrap_or_else(|| format!("Nessus plugin {}", item.plugin_id));
    let protocol = item.protocol.clone().unwrap_or_else(|| "tcp".to_string());
    let title = match (kind, item.port, family) {
        (FindingKind::ExposedService, Some(port), "Port scanners") => match &item.service {
            Some(service) => format!("Open port: {port}/{protocol} ({service})"),
            None => format!("Open port: {port}/{protocol}"),
        },
        _ => plugin_name.clone(),
    };
    let tool = if scope.web { TENABLE_WAS } else { NESSUS };
    let mut finding = Finding::new(
        tool,
        item.plugin_id.clone(),
        kind,
        title,
        Severity::Info,
        scope.key.clone(),
    );

    for cve in item.all("cve") {
        util::add_vulnerability_id(&mut finding, cve);
    }
    for bid in item.all("bid") {
        util::add_vulnerability_id(&mut finding, &format!("BID:{bid}"));
    }
    for xref in item.all("xref") {
        let Some((namespace, value)) = xref.split_once(':') else {
            continue;
        };
        let (namespace, value) = (namespace.trim(), value.trim());
        if namespace.eq_ignore_ascii_case("CWE") {
            util::add_cwe(&mut finding, value);
        } else if ADVISORY_XREFS.iter().any(|known| known.eq_ignore_ascii_case(namespace)) {
            util::add_vulnerability_id(&mut finding, &format!("{namespace}:{value}"));
        }
    }
    for cwe in item.all("cwe") {
        util::add_cwe(&mut finding, cwe);
    }

    for vector in item.all("cvss_vector") {
        let bare = vector
            .strip_prefix("CVSS2#")
            .or_else(|| vector.strip_prefix("CVSS#"))
            .unwrap_or(vector);
        util::add_cvss(&mut finding, bare);
    }
    for name in ["cvss3_vector", "cvss4_vector"] {
        for vector in item.all(name) {
            util::add_cvss(&mut finding, vector);
        }
    }
    finding.severity = severity(&item, &finding);

    finding.description = item.first("description");
    finding.fix.description = item.first("solution").filter(|text| !text.eq_ignore_ascii_case("n/a"));
    for see_also in item.all("see_also") {
        for reference in see_also.split_whitespace() {
            if !finding.references.iter().any(|known| known == reference) {
                finding.references.push(reference.to_string());
            }
        }
    }
    if let Some(output) = item.fields.iter().find(|field| field.name == "plugin_output") {
        let text = output.text.trim();
        if !text.is_empty() {
            finding.evidence = Some(evidence(text, output.total_bytes));
            if scope.web {
                finding.location.url = first_url(text);
            }
        }
    }

    if let Some(port) = item.port {
        finding.location.port = Some(port);
        finding.location.protocol = Some(protocol);
    }
    finding.target = Some(scope.target.clone());

    let attributes = [
        ("plugin_family", item.family.clone()),
        ("plugin_name", Some(plugin_name)),
        ("service", item.service.clone()),
        ("synopsis", item.first("synopsis")),
        ("risk_factor", item.first("risk_factor")),
        (
            "cvss_base_score",
            item.first("cvss_base_score").or_else(|| item.first("cvss")),
        ),
        (
            "cvss3_base_score",
            item.first("cvss3_base_score").or_else(|| item.first("cvssv3")),
        ),
        ("vpr_score", item.first("vpr_score")),
        ("epss_score", item.first("epss_score")),
        ("exploit_available", item.first("exploit_available")),
        ("exploited_by_malware", item.first("exploited_by_malware")),
        ("in_the_news", item.first("in_the_news")),
        ("patch_publication_date", item.first("patch_publication_date")),
    ];
    for (name, value) in attributes {
        if let Some(value) = value {
            finding.attributes.insert(name.into(), value);
        }
    }
    finding
}

/// Rates an item by its `severity` attribute (0 to 4), else its
/// `risk_factor`, else its highest CVSS score.
fn severity(item: &Item, finding: &Finding) -> Severity {
    let from_number = match item.severity.as_deref().map(str::trim) {
        Some("0") => Some(Severity::Info),
        Some("1") => Some(Severity::Low),
        Some("2") => Some(Severity::Medium),
        Some("3") => Some(Severity::High),
        Some("4") => Some(Severity::Critical),
        _ => None,
    };
    from_number.unwrap_or_else(|| util::severity_or_cvss(item.first("risk_factor").as_deref(), finding))
}

/// Cuts the plugin output to [`EVIDENCE_BYTES`] for evidence, with a line
/// that gives the kept and the total size.
fn evidence(text: &str, total_bytes: usize) -> String {
    if text.len() <= EVIDENCE_BYTES && total_bytes <= FIELD_BYTES {
        return text.to_string();
    }
    let mut end = EVIDENCE_BYTES.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n[truncated: {end} of {total_bytes} bytes kept]", &text[..end])
}

/// Returns the first `http://` or `https://` URL in a text, without the
/// quotes or punctuation around it.
fn first_url(text: &str) -> Option<String> {
    let start = [text.find("http://"), text.find("https://")]
        .into_iter()
        .flatten()
        .min()?;
    let url: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '\'' | '"' | '<' | '>'))
        .collect();
    let url = url.trim_end_matches(['.', ',', ';', ')']);
    util::non_empty(Some(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_in_plugin_output() {
        let output = "Vulnerability has been detected on URL 'http://shop.example.test/search.jsp' by exploiting";
        assert_eq!(
            first_url(output).as_deref(),
            Some("http://shop.example.test/search.jsp")
        );
        assert_eq!(
            first_url("Page https://shop.example.test/ has no header.").as_deref(),
            Some("https://shop.example.test/")
        );
        assert_eq!(first_url("no address here"), None);
    }

    #[test]
    fn long_evidence_is_cut() {
        let long = "x".repeat(EVIDENCE_BYTES + 10);
        let cut = evidence(&long, long.len());
        assert!(cut.ends_with(&format!("[truncated: {EVIDENCE_BYTES} of {} bytes kept]", long.len())));
        assert_eq!(evidence("short", 5), "short");
    }
}
