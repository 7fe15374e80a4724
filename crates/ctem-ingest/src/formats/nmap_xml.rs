//! Nmap XML reports: `nmap -oX`.
//!
//! # Reads
//!
//! Nmap XML output version 1.x (`<nmaprun xmloutputversion="1.05">`, Nmap
//! 4 to 7): each `<host>` with its `<status>`, `<address>`es,
//! `<hostnames>`, `<ports>` (`<state>`, `<service>` with `<cpe>`,
//! `<script>` with `<elem>` and `<table>` children) and `<os>` matches.
//!
//! # Field mapping
//!
//! - Each open port (state `open`; `filtered`, `closed` and the others are
//!   no exposure) -> an `ExposedService` finding: `rule_id`
//!   `open-port/<port>/<protocol>`, `title` `Open port: <port>/<protocol>`
//!   with the service name, severity `Info`, `location.port` and
//!   `location.protocol`. The service's name, product, version, extra
//!   information, tunnel and CPEs -> `attributes` and `description`; the
//!   outputs of the port's scripts -> `evidence`, cut to 4 KiB.
//! - Each id that the `vulners` NSE script lists for a port -> a
//!   `Vulnerability` finding: the `id` -> `rule_id` and vulnerability id,
//!   the `cvss` score -> `severity` (CVSS v3.1 rating of the score),
//!   `is_exploit` and `type` -> `attributes`, the service product and
//!   version -> `component`, `https://vulners.com/<type>/<id>` ->
//!   `references`. The script's text output is read when it has no tables
//!   (older versions of the script).
//! - Assets: a host per host that is up, keyed by its IPv4 address (else
//!   IPv6, else its first host name), with `ip`, `mac` and `hostname`
//!   identifiers and the best OS match as `os`. Each open port is a service
//!   keyed `<ip>:<port>/<protocol>`, which the host `Hosts`.
//!
//! Every finding is on the host asset, so that findings of other tools on
//! the same address (Nessus) meet them; the port is in the location.
//!
//! # Scope target
//!
//! `host:<address>` for each host that is up, so that a rescan of one host
//! closes only that host's ports. Hosts that are down are skipped.
//!
//! # Fingerprint
//!
//! The tool `nmap`, the rule id, the host, the port and protocol, and for
//! `vulners` findings the service product and version.
//!
//! # Not read yet
//!
//! `<hostscript>`, `<prescript>` and `<postscript>` outputs, `<trace>`,
//! `<uptime>`, `<extraports>`, service fingerprints, and scripts other than
//! `vulners` beyond their text output.
//!
//! # Reference
//!
//! <https://nmap.org/book/output-formats-xml-output.html> and the DTD
//! <https://nmap.org/book/nmap-dtd.html>; the `vulners` script:
//! <https://nmap.org/nsedoc/scripts/vulners.html>.

use std::collections::HashSet;
use std::io::BufRead;

use ctem_model::{
    Asset, AssetKey, AssetKind, Component, Finding, FindingKind, Relationship, RelationshipKind, Severity,
};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "nmap-xml";
const TOOL: &str = "nmap";
/// The maximum size in bytes of the script output kept as evidence of one
/// port.
const EVIDENCE_BYTES: usize = 4096;

/// The Nmap XML parser.
pub struct NmapXml;

impl Parser for NmapXml {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Nmap XML",
            tool: "Nmap",
            versions: "XML output 1.x (Nmap 4 to 7)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        if util::contains(head, b"<nmaprun") {
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
        let mut state = State::default();
        let mut emitter = Emitter {
            sink,
            assets: HashSet::new(),
        };
        let mut buffer = Vec::new();
        let mut depth: usize = 0;
        let mut root_seen = false;

        loop {
            let position = reader.buffer_position();
            let event = reader
                .read_event_into(&mut buffer)
                .map_err(|error| ParseError::from_xml(context.path, FORMAT_ID, reader.error_position(), &error))?;
            let fail = |message: String| {
                ParseError::new(context.path, FORMAT_ID, Some(crate::Position::Byte(position)), message)
            };
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
                    state.close(element.name().as_ref(), &mut emitter);
                }
                Event::End(element) => {
                    depth = depth.saturating_sub(1);
                    state.close(element.name().as_ref(), &mut emitter);
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
        let at_end =
            |message: &str| ParseError::new(context.path, FORMAT_ID, Some(crate::Position::Byte(end)), message);
        if !root_seen {
            return Err(at_end(
                "no XML element found: expected an Nmap XML report with a <nmaprun> root element",
            ));
        }
        if depth > 0 {
            return Err(at_end("the file ends inside an open element, it may be truncated"));
        }
        Ok(())
    }
}

/// Checks the root element: `<nmaprun>` with an XML output version 1.x.
fn check_root(element: &BytesStart<'_>) -> Result<(), String> {
    let name = String::from_utf8_lossy(element.name().as_ref()).into_owned();
    if name != "nmaprun" {
        return Err(format!(
            "not an Nmap XML report: expected the root element <nmaprun>, found <{name}>"
        ));
    }
    match util::xml_attribute(element, "xmloutputversion") {
        Some(version) if !version.starts_with("1.") => Err(format!(
            "unsupported Nmap XML output version {version}: this parser reads version 1.x (Nmap 4 to 7)"
        )),
        _ => Ok(()),
    }
}

/// One port of a host, as read.
#[derive(Debug, Default)]
struct Port {
    protocol: String,
    number: Option<u16>,
    state: Option<String>,
    reason: Option<String>,
    service: Option<String>,
    product: Option<String>,
    version: Option<String>,
    extra_info: Option<String>,
    tunnel: Option<String>,
    cpes: Vec<String>,
    /// `(script id, output)` of each script.
    scripts: Vec<(String, String)>,
    vulners: Vec<VulnersEntry>,
}

/// One id that the `vulners` script listed.
#[derive(Debug, Default)]
struct VulnersEntry {
    id: String,
    cvss: Option<f64>,
    is_exploit: Option<String>,
    kind: Option<String>,
    cpe: Option<String>,
}

/// One host, as read.
#[derive(Debug, Default)]
struct Host {
    status: Option<String>,
    ipv4: Vec<String>,
    ipv6: Vec<String>,
    mac: Option<(String, Option<String>)>,
    hostnames: Vec<(String, Option<String>)>,
    os: Option<(String, u32)>,
    ports: Vec<Port>,
}

/// A `<table>` of a script output: its key and its `<elem>` children as
/// (key, text).
#[derive(Debug, Default)]
struct Table {
    key: Option<String>,
    elems: Vec<(String, String)>,
}

/// A `<script>` being read: its id, output and tables.
#[derive(Debug, Default)]
struct Script {
    id: String,
    output: String,
    /// Open tables, innermost last.
    tables: Vec<Table>,
    /// Whether any table with an `id` element was read.
    has_tables: bool,
    entries: Vec<VulnersEntry>,
}

/// The reader's place in the document and the records being built.
#[derive(Debug, Default)]
struct State {
    host: Option<Host>,
    port: Option<Port>,
    in_service: bool,
    script: Option<Script>,
    /// The key of the `<elem>` being read and its text.
    elem: Option<(String, String)>,
    /// The text of the `<cpe>` of a service being read.
    cpe: Option<String>,
}

impl State {
    /// Returns whether text events belong to a field being read.
    fn capturing(&self) -> bool {
        self.elem.is_some() || self.cpe.is_some()
    }

    fn text(&mut self, text: &str) {
        if let Some((_, value)) = &mut self.elem {
            value.push_str(text);
        } else if let Some(cpe) = &mut self.cpe {
            cpe.push_str(text);
        }
    }

    fn open(&mut self, element: &BytesStart<'_>) {
        let attribute = |name: &str| util::xml_attribute(element, name).and_then(|v| util::non_empty(Some(&v)));
        match element.name().as_ref() {
            b"host" => self.host = Some(Host::default()),
            b"status" => {
                if let Some(host) = &mut self.host {
                    host.status = attribute("state");
                }
            }
            b"address" => {
                let (Some(host), Some(address)) = (&mut self.host, attribute("addr")) else {
                    return;
                };
                match attribute("addrtype").as_deref() {
                    Some("ipv6") => host.ipv6.push(address),
                    Some("mac") => host.mac = Some((address, attribute("vendor"))),
                    _ => host.ipv4.push(address),
                }
            }
            b"hostname" => {
                if let (Some(host), Some(name)) = (&mut self.host, attribute("name")) {
                    host.hostnames.push((name, attribute("type")));
                }
            }
            b"osmatch" => {
                let (Some(host), Some(name)) = (&mut self.host, attribute("name")) else {
                    return;
                };
                let accuracy = attribute("accuracy").and_then(|a| a.parse().ok()).unwrap_or(0);
                if host.os.as_ref().is_none_or(|(_, best)| accuracy > *best) {
                    host.os = Some((name, accuracy));
                }
            }
            b"port" if self.host.is_some() => {
                self.port = Some(Port {
                    protocol: attribute("protocol")
                        .unwrap_or_else(|| "tcp".to_string())
                        .to_ascii_lowercase(),
                    number: attribute("portid").and_then(|p| p.parse().ok()),
                    ..Port::default()
                });
            }
            b"state" => {
                if let Some(port) = &mut self.port {
                    port.state = attribute("state");
                    port.reason = attribute("reason");
                }
            }
            b"service" => {
                if let Some(port) = &mut self.port {
                    port.service = attribute("name");
                    port.product = attribute("product");
                    port.version = attribute("version");
                    port.extra_info = attribute("extrainfo");
                    port.tunnel = attribute("tunnel");
                    self.in_service = true;
                }
            }
            b"cpe" if self.in_service => self.cpe = Some(String::new()),
            b"script" if self.port.is_some() => {
                self.script = Some(Script {
                    id: attribute("id").unwrap_or_default(),
                    output: util::xml_attribute(element, "output").unwrap_or_default(),
                    ..Script::default()
                });
            }
            b"table" => {
                if let Some(script) = &mut self.script {
                    script.tables.push(Table {
                        key: attribute("key"),
                        elems: Vec::new(),
                    });
                }
            }
            b"elem" if self.script.is_some() => {
                self.elem = Some((attribute("key").unwrap_or_default(), String::new()));
            }
            _ => {}
        }
    }

    fn close(&mut self, name: &[u8], emitter: &mut Emitter<'_>) {
        match name {
            b"elem" => {
                let Some((key, value)) = self.elem.take() else {
                    return;
                };
                if let Some(table) = self.script.as_mut().and_then(|script| script.tables.last_mut()) {
                    table.elems.push((key, value.trim().to_string()));
                }
            }
            b"table" => {
                let Some(script) = &mut self.script else {
                    return;
                };
                let Some(table) = script.tables.pop() else {
                    return;
                };
                let elems = table.elems;
                let value = |key: &str| elems.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
                if let Some(id) = value("id").filter(|id| !id.is_empty()) {
                    script.has_tables = true;
                    let cpe = script.tables.last().and_then(|outer| outer.key.clone());
                    script.entries.push(VulnersEntry {
                        id,
                        cvss: value("cvss").and_then(|score| score.parse().ok()),
                        is_exploit: value("is_exploit"),
                        kind: value("type"),
                        cpe,
                    });
                }
            }
            b"script" => {
                let (Some(script), Some(port)) = (self.script.take(), &mut self.port) else {
                    return;
                };
                if script.id == "vulners" {
                    if script.has_tables {
                        port.vulners.extend(script.entries);
                    } else {
                        port.vulners.extend(vulners_from_output(&script.output));
                    }
                }
                port.scripts.push((script.id, script.output));
            }
            b"cpe" => {
                let cpe = self.cpe.take().and_then(|cpe| util::non_empty(Some(&cpe)));
                if let (Some(cpe), Some(port)) = (cpe, &mut self.port) {
                    port.cpes.push(cpe);
                }
            }
            b"service" => self.in_service = false,
            b"port" => {
                if let (Some(port), Some(host)) = (self.port.take(), &mut self.host) {
                    host.ports.push(port);
                }
            }
            b"host" => {
                if let Some(host) = self.host.take() {
                    emitter.host(host);
                }
            }
            _ => {}
        }
    }
}

/// Reads the text output of the `vulners` script, for versions that wrote
/// no tables: a `cpe:...:` line, then one line per id with the id, the
/// score, the URL and `*EXPLOIT*` separated by tabs.
fn vulners_from_output(output: &str) -> Vec<VulnersEntry> {
    let mut entries = Vec::new();
    let mut cpe: Option<String> = None;
    for line in output.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("cpe:") {
            cpe = Some(trimmed.trim_end_matches(':').trim().to_string());
            continue;
        }
        let fields: Vec<&str> = trimmed.split('\t').map(str::trim).filter(|f| !f.is_empty()).collect();
        let Some((id, rest)) = fields.split_first() else {
            continue;
        };
        let Some(score) = rest.first().and_then(|score| score.parse::<f64>().ok()) else {
            continue;
        };
        let kind = rest
            .get(1)
            .and_then(|url| url.strip_prefix("https://vulners.com/"))
            .and_then(|path| path.split('/').next())
            .map(str::to_string);
        entries.push(VulnersEntry {
            id: (*id).to_string(),
            cvss: Some(score),
            is_exploit: Some(rest.contains(&"*EXPLOIT*").to_string()),
            kind,
            cpe: cpe.clone(),
        });
    }
    entries
}

/// Sends the records of each host, once per asset.
struct Emitter<'a> {
    sink: &'a mut dyn Sink,
    assets: HashSet<AssetKey>,
}

impl Emitter<'_> {
    fn asset(&mut self, asset: Asset) {
        if self.assets.insert(asset.key.clone()) {
            self.sink.asset(asset);
        }
    }

    fn host(&mut self, host: Host) {
        if host.status.as_deref().is_some_and(|status| status != "up") {
            return;
        }
        let hostnames: Vec<&str> = host.hostnames.iter().map(|(name, _)| name.as_str()).collect();
        let Some(address) = host
            .ipv4
            .first()
            .or(host.ipv6.first())
            .map(String::as_str)
            .or(hostnames.first().copied())
        else {
            return;
        };
        let target = format!("host:{}", address.to_ascii_lowercase());
        self.sink.target(TOOL, &target);

        let host_asset = host_asset(&host, address);
        let host_key = host_asset.key.clone();
        self.asset(host_asset);

        for port in &host.ports {
            if port.state.as_deref() != Some("open") {
                continue;
            }
            let Some(number) = port.number else {
                continue;
            };
            let service = service_asset(address, number, port);
            let mut relationship = Relationship::new(host_key.clone(), RelationshipKind::Hosts, service.key.clone());
            relationship.port = Some(number);
            relationship.protocol = Some(port.protocol.clone());
            if self.assets.insert(service.key.clone()) {
                self.sink.asset(service);
                self.sink.relationship(relationship);
            }

            self.sink
                .finding(open_port_finding(&host_key, &target, address, number, port));
            for entry in &port.vulners {
                self.sink
                    .finding(vulners_finding(&host_key, &target, number, port, entry));
            }
        }
    }
}

fn host_asset(host: &Host, address: &str) -> Asset {
    // The reverse DNS name names the machine; a user-supplied name may be
    // one of many virtual hosts.
    let name = host
        .hostnames
        .iter()
        .find(|(_, kind)| kind.as_deref() == Some("PTR"))
        .or(host.hostnames.first())
        .map_or(address, |(name, _)| name.as_str());
    let mut asset = Asset::new(AssetKind::Host, address, name);
    for ip in host.ipv4.iter().chain(&host.ipv6) {
        asset.add_identifier("ip", ip.clone());
    }
    for (hostname, _) in &host.hostnames {
        asset.add_identifier("hostname", hostname.to_ascii_lowercase());
    }
    if let Some((mac, vendor)) = &host.mac {
        asset.add_identifier("mac", mac.to_ascii_lowercase());
        if let Some(vendor) = vendor {
            asset.attributes.insert("mac_vendor".into(), vendor.clone());
        }
    }
    if let Some((os, _)) = &host.os {
        asset.attributes.insert("os".into(), os.clone());
    }
    asset
}

fn service_asset(address: &str, number: u16, port: &Port) -> Asset {
    let identifier = format!("{address}:{number}/{}", port.protocol);
    let mut asset = Asset::new(AssetKind::Service, &identifier, identifier.clone());
    for cpe in &port.cpes {
        asset.add_identifier("cpe", cpe.clone());
    }
    let attributes = [
        ("service", &port.service),
        ("product", &port.product),
        ("version", &port.version),
        ("extra_info", &port.extra_info),
        ("tunnel", &port.tunnel),
    ];
    for (name, value) in attributes {
        if let Some(value) = value {
            asset.attributes.insert(name.into(), value.clone());
        }
    }
    asset
}

/// The product and version of a service, as one phrase (`OpenSSH 7.4`).
fn software(port: &Port) -> Option<String> {
    let parts: Vec<&str> = [&port.product, &port.version]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn open_port_finding(host: &AssetKey, target: &str, address: &str, number: u16, port: &Port) -> Finding {
    let protocol = &port.protocol;
    let mut title = format!("Open port: {number}/{protocol}");
    if let Some(service) = &port.service {
        title = format!("{title} ({service})");
    }
    let mut finding = Finding::new(
        TOOL,
        format!("open-port/{number}/{protocol}"),
        FindingKind::ExposedService,
        title,
        Severity::Info,
        host.clone(),
    );

    let mut description = format!("Port {number}/{protocol} is open on {address}");
    if let Some(service) = &port.service {
        description = format!("{description}, running {service}");
    }
    if let Some(software) = software(port) {
        description = format!("{description} ({software})");
    }
    finding.description = Some(format!("{description}."));

    let outputs: Vec<String> = port
        .scripts
        .iter()
        .filter(|(_, output)| !output.trim().is_empty())
        .map(|(id, output)| format!("{id}:\n{}", output.trim()))
        .collect();
    if !outputs.is_empty() {
        finding.evidence = Some(util::truncate_text(&outputs.join("\n\n"), EVIDENCE_BYTES));
    }

    finding.location.port = Some(number);
    finding.location.protocol = Some(protocol.clone());
    finding.target = Some(target.to_string());
    let attributes = [
        ("service", port.service.clone()),
        ("product", port.product.clone()),
        ("version", port.version.clone()),
        ("extra_info", port.extra_info.clone()),
        ("tunnel", port.tunnel.clone()),
        ("reason", port.reason.clone()),
        ("cpe", (!port.cpes.is_empty()).then(|| port.cpes.join(", "))),
    ];
    for (name, value) in attributes {
        if let Some(value) = value {
            finding.attributes.insert(name.into(), value);
        }
    }
    finding
}

fn vulners_finding(host: &AssetKey, target: &str, number: u16, port: &Port, entry: &VulnersEntry) -> Finding {
    let protocol = &port.protocol;
    let title = match software(port) {
        Some(software) => format!("{} in {software}", entry.id),
        None => format!("{} on port {number}/{protocol}", entry.id),
    };
    let severity = entry.cvss.map_or(Severity::Info, Severity::from_cvss_score);

    let mut finding = Finding::new(
        TOOL,
        entry.id.clone(),
        FindingKind::Vulnerability,
        title,
        severity,
        host.clone(),
    );
    util::add_vulnerability_id(&mut finding, &entry.id);
    if let Some(kind) = &entry.kind {
        finding
            .references
            .push(format!("https://vulners.com/{kind}/{}", entry.id));
    }
    if let Some(product) = &port.product {
        finding.component = Some(Component {
            name: product.clone(),
            version: port.version.clone(),
            ..Component::default()
        });
    }
    finding.location.port = Some(number);
    finding.location.protocol = Some(protocol.clone());
    finding.target = Some(target.to_string());

    let attributes = [
        ("is_exploit", entry.is_exploit.clone()),
        ("vulners_type", entry.kind.clone()),
        ("cvss_score", entry.cvss.map(|score| score.to_string())),
        ("cpe", entry.cpe.clone()),
        ("service", port.service.clone()),
    ];
    for (name, value) in attributes {
        if let Some(value) = value {
            finding.attributes.insert(name.into(), value);
        }
    }
    finding
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vulners_text_output() {
        let output = "\n  cpe:/a:openbsd:openssh:7.4: \n    \tCVE-2018-15919\t5.0\thttps://vulners.com/cve/CVE-2018-15919\n    \tEXPLOITPACK:98FE96309F9524B8C84C508837551A19\t5.8\thttps://vulners.com/exploitpack/EXPLOITPACK:98FE96309F9524B8C84C508837551A19\t*EXPLOIT*";
        let entries = vulners_from_output(output);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].id, "CVE-2018-15919");
        assert_eq!(entries[0].cvss, Some(5.0));
        assert_eq!(entries[0].kind.as_deref(), Some("cve"));
        assert_eq!(entries[0].is_exploit.as_deref(), Some("false"));
        assert_eq!(entries[0].cpe.as_deref(), Some("cpe:/a:openbsd:openssh:7.4"));
        assert_eq!(entries[1].is_exploit.as_deref(), Some("true"));
        assert_eq!(entries[1].kind.as_deref(), Some("exploitpack"));
    }
}
