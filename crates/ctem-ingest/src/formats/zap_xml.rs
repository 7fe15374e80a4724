//! OWASP ZAP XML reports: the alerts of a dynamic scan of one or more web
//! sites, in the layout of the traditional XML report.
//!
//! # Reads
//!
//! The "Traditional XML Report" of ZAP 2.x (`-x report.xml` in the packaged
//! scans, the `traditional-xml` and `traditional-xml-plus` templates), as
//! written by ZAP 2.4 to 2.16: `<OWASPZAPReport version generated
//! [programName]>` with `<site name host port ssl>` elements, each with
//! `<alerts>` of `<alertitem>`s. An alert item has `pluginid`, `alertRef`,
//! `alert`, `name`, `riskcode`, `confidence`, `riskdesc`, `desc`,
//! `instances` (each `<instance>` with `uri`, `method`, `param`, `attack`,
//! `evidence`, `otherinfo`), `count`, `solution`, `otherinfo`, `reference`,
//! `cweid`, `wascid` and `sourceid`. Reports of ZAP 2.4 to 2.7 have no
//! `<instances>`: the `uri`, `param`, `attack`, `evidence` and `otherinfo`
//! of each place follow one another inside the alert item, and each `uri`
//! starts a new place.
//!
//! A report whose `version` has a major number other than 2 is rejected;
//! versions that are not numbers (weekly builds) are read.
//!
//! # Field mapping
//!
//! The same as the ZAP JSON parser (`zap-json`), so that the XML and the
//! JSON report of one scan give the same findings and fingerprints. There
//! is one finding per alert and place (instance `uri`, `method` and
//! `param`). Where several instances share a place, the `instances`
//! attribute counts them. An alert without instances gives one finding at
//! the site's URL.
//!
//! | report | finding |
//! | --- | --- |
//! | `pluginid` (else `alertRef`) | `rule_id` |
//! | `name`, else `alert` | `title` (`alert` is kept in the `alert` attribute where it differs) |
//! | `riskcode` 0, 1, 2, 3 (else the first word of `riskdesc`) | `severity` Info, Low, Medium, High |
//! | (always) | `kind` WebWeakness |
//! | `desc` as plain text, then the instance's (else the alert's) `otherinfo` | `description` |
//! | `solution` as plain text | `fix.description` |
//! | `reference`, one entry per line or paragraph | `references` |
//! | `cweid` above 0 | `cwes` |
//! | instance `uri`, `method`, `param` | `location.url`, `method`, `parameter` |
//! | instance `evidence`, cut to 4 KiB | `evidence` |
//! | `confidence` 0 (false positive) or 4 (confirmed by a user) | `source_status` FalsePositive or Affected |
//! | `confidence`, `alertRef`, `wascid`, `sourceid`, instance `attack` | `attributes` |
//!
//! Credentials in the evidence, the attack and the other information
//! (`Authorization` and token headers, cookie values) are masked.
//!
//! # Scope target
//!
//! Each site's `name`. The asset is a [`AssetKind::WebApp`] keyed by the
//! same name, with `url`, `hostname` (or `ip`) and `port` identifiers. An
//! alert item outside any site, and a report without sites, covers
//! [`ParseContext::default_target`].
//!
//! # Fingerprint
//!
//! Tool `zap`, plugin id, the site asset, and the instance's URL, method
//! and parameter, as for ZAP JSON.
//!
//! # Not read yet
//!
//! The request and response headers and bodies of ZAP 2.16 and of
//! `traditional-xml-plus` (skipped, never kept), the alert `tags`,
//! `count` (the instances are counted instead), `generated`, and the
//! statistics.
//!
//! # Reference
//!
//! <https://www.zaproxy.org/docs/desktop/addons/report-generation/report-traditional-xml/>

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::net::IpAddr;

use ctem_model::{Asset, AssetKey, AssetKind, Finding, FindingKind, Severity, SourceStatus};
use quick_xml::events::BytesStart;

use super::dast_shared::{EVIDENCE_BYTES, mask_http_credentials};
use super::dast_xml::{self, Field, XmlHandler, element_name};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "zap-xml";
const TOOL: &str = "zap";
/// The maximum size in bytes of one alert or instance field kept while
/// reading. Descriptions and other information are far shorter.
const FIELD_BYTES: usize = 64 * 1024;

/// The ZAP XML report parser.
pub struct ZapXml;

impl Parser for ZapXml {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "OWASP ZAP XML",
            tool: "OWASP ZAP",
            versions: "2.4 to 2.16 traditional XML report",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        if util::contains(head, b"<OWASPZAPReport") {
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
        let mut handler = ZapHandler {
            context,
            sink,
            sites: BTreeSet::new(),
            site: None,
            alert: None,
            instance: None,
            field: None,
        };
        dast_xml::walk(
            context,
            FORMAT_ID,
            "a ZAP XML report with an <OWASPZAPReport> root element",
            reader,
            &mut handler,
        )?;
        if handler.sites.is_empty() {
            handler.sink.target(TOOL, context.default_target);
        }
        Ok(())
    }
}

/// A site as the findings name it: its scope target and asset key.
#[derive(Debug, Clone)]
struct Site {
    target: String,
    key: AssetKey,
}

/// One alert item being read.
#[derive(Debug, Default)]
struct Alert {
    depth: usize,
    pluginid: Option<String>,
    alert_ref: Option<String>,
    alert: Option<String>,
    name: Option<String>,
    riskcode: Option<String>,
    riskdesc: Option<String>,
    confidence: Option<String>,
    desc: Option<String>,
    solution: Option<String>,
    otherinfo: Option<String>,
    reference: Option<String>,
    cweid: Option<String>,
    wascid: Option<String>,
    sourceid: Option<String>,
    instances: Vec<Instance>,
    /// Whether places follow one another inside the item (ZAP 2.4 to 2.7).
    inline_places: bool,
}

/// An instance's URL, HTTP method and parameter.
type Place = (Option<String>, Option<String>, Option<String>);

/// One place where an alert was seen.
#[derive(Debug, Default)]
struct Instance {
    uri: Option<String>,
    method: Option<String>,
    param: Option<String>,
    attack: Option<String>,
    evidence: Option<String>,
    otherinfo: Option<String>,
}

impl Instance {
    fn set(&mut self, name: &str, text: String) {
        let slot = match name {
            "uri" => &mut self.uri,
            "method" => &mut self.method,
            "param" => &mut self.param,
            "attack" => &mut self.attack,
            "evidence" => &mut self.evidence,
            "otherinfo" => &mut self.otherinfo,
            _ => return,
        };
        *slot = Some(text);
    }
}

/// The fields of an instance that are read; the request and response
/// headers and bodies are skipped.
const INSTANCE_FIELDS: &[&str] = &["uri", "method", "param", "attack", "evidence", "otherinfo"];

/// The reader's place in the document and the alert being built.
struct ZapHandler<'a, 'c> {
    context: &'a ParseContext<'c>,
    sink: &'a mut dyn Sink,
    /// Targets of the sites whose asset and scope were sent.
    sites: BTreeSet<String>,
    site: Option<Site>,
    alert: Option<Alert>,
    /// The `<instance>` being read, with its depth.
    instance: Option<(Instance, usize)>,
    field: Option<Field>,
}

impl XmlHandler for ZapHandler<'_, '_> {
    fn root(&mut self, element: &BytesStart<'_>) -> Result<(), String> {
        let name = element_name(element);
        if name != "OWASPZAPReport" {
            return Err(format!(
                "not a ZAP XML report: expected the root element <OWASPZAPReport>, found <{name}>"
            ));
        }
        let version = util::xml_attribute(element, "version");
        match dast_xml::major_version(version.as_deref()) {
            Some(2) | None => Ok(()),
            Some(_) => Err(format!(
                "unsupported ZAP version {:?}: this parser reads the traditional XML report of ZAP 2.x",
                version.unwrap_or_default()
            )),
        }
    }

    fn start(&mut self, element: &BytesStart<'_>, depth: usize) -> Result<(), String> {
        if self.field.is_some() {
            return Ok(());
        }
        let name = element_name(element);

        if let Some(alert) = &mut self.alert {
            if let Some((_, instance_depth)) = &self.instance {
                if depth == instance_depth + 1 && INSTANCE_FIELDS.contains(&name.as_str()) {
                    self.field = Some(Field::new(&name, depth));
                }
                return Ok(());
            }
            if depth == alert.depth + 2 && name == "instance" {
                self.instance = Some((Instance::default(), depth));
            } else if depth == alert.depth + 1 && name != "instances" && name != "tags" {
                self.field = Some(Field::new(&name, depth));
            }
            return Ok(());
        }

        match name.as_str() {
            "site" => {
                let site = self.declare_site(element);
                self.site = Some(site);
            }
            "alertitem" => {
                self.alert = Some(Alert {
                    depth,
                    ..Alert::default()
                });
            }
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, name: &[u8], depth: usize) {
        if let Some(field) = self.field.take_if(|field| field.depth == depth) {
            self.field_done(field);
            return;
        }
        if let Some((instance, _)) = self.instance.take_if(|(_, instance_depth)| *instance_depth == depth) {
            if let Some(alert) = &mut self.alert {
                alert.instances.push(instance);
            }
            return;
        }
        if let Some(alert) = self.alert.take_if(|alert| alert.depth == depth) {
            let site = match self.site.clone() {
                Some(site) => site,
                None => self.default_site(),
            };
            self.emit_alert(&site, alert);
            return;
        }
        if self.alert.is_none() && name == b"site" {
            self.site = None;
        }
    }

    fn capturing(&self) -> bool {
        self.field.is_some()
    }

    fn text(&mut self, text: &str) {
        if let Some(field) = &mut self.field {
            field.push(text, FIELD_BYTES);
        }
    }
}

impl ZapHandler<'_, '_> {
    /// Stores a field of the alert or of the instance being read.
    fn field_done(&mut self, field: Field) {
        let Some(alert) = &mut self.alert else {
            return;
        };
        let text = field.text;
        if let Some((instance, _)) = &mut self.instance {
            instance.set(&field.name, text);
            return;
        }

        // ZAP 2.4 to 2.7: the fields of each place follow one another, and a
        // `uri` starts the next place. Other information after the solution
        // belongs to the alert.
        match field.name.as_str() {
            "uri" | "method" | "param" | "attack" | "evidence" => {
                let starts_place = match alert.instances.last() {
                    Some(last) => field.name == "uri" && last.uri.is_some(),
                    None => true,
                };
                if starts_place {
                    alert.instances.push(Instance::default());
                }
                alert.inline_places = true;
                if let Some(instance) = alert.instances.last_mut() {
                    instance.set(&field.name, text);
                }
            }
            "otherinfo" if alert.inline_places && alert.solution.is_none() => {
                if let Some(instance) = alert.instances.last_mut() {
                    instance.set("otherinfo", text);
                }
            }
            "otherinfo" => alert.otherinfo = Some(text),
            "pluginid" => alert.pluginid = Some(text),
            "alertRef" => alert.alert_ref = Some(text),
            "alert" => alert.alert = Some(text),
            "name" => alert.name = Some(text),
            "riskcode" => alert.riskcode = Some(text),
            "riskdesc" => alert.riskdesc = Some(text),
            "confidence" => alert.confidence = Some(text),
            "desc" => alert.desc = Some(text),
            "solution" => alert.solution = Some(text),
            "reference" => alert.reference = Some(text),
            "cweid" => alert.cweid = Some(text),
            "wascid" => alert.wascid = Some(text),
            "sourceid" => alert.sourceid = Some(text),
            _ => {}
        }
    }

    /// Sends a site's asset and scope target unless they were sent, and
    /// returns the site as findings name it.
    fn declare_site(&mut self, element: &BytesStart<'_>) -> Site {
        let attribute = |name: &str| util::xml_attribute(element, name);
        let host = attribute("host");
        let port = attribute("port");
        let target = site_name(attribute("name"), host.as_deref(), port.as_deref(), attribute("ssl"))
            .unwrap_or_else(|| self.context.default_target.to_string());
        let key = AssetKey::new(AssetKind::WebApp, &target);
        if self.sites.insert(target.clone()) {
            let mut asset = Asset::new(AssetKind::WebApp, &target, target.clone());
            if target.contains("://") {
                asset.add_identifier("url", target.clone());
            }
            if let Some(host) = util::non_empty(host.as_deref()) {
                let kind = if host.parse::<IpAddr>().is_ok() {
                    "ip"
                } else {
                    "hostname"
                };
                asset.add_identifier(kind, host);
            }
            if let Some(port) = port.as_deref().and_then(|p| p.trim().parse::<u16>().ok()) {
                asset.add_identifier("port", port.to_string());
            }
            self.sink.asset(asset);
            self.sink.target(TOOL, &target);
        }
        Site { target, key }
    }

    /// Returns the site of alert items that no `<site>` encloses: the
    /// default target, declared once.
    fn default_site(&mut self) -> Site {
        let target = self.context.default_target.to_string();
        let key = AssetKey::new(AssetKind::WebApp, &target);
        if self.sites.insert(target.clone()) {
            self.sink.asset(Asset::new(AssetKind::WebApp, &target, target.clone()));
            self.sink.target(TOOL, &target);
        }
        Site { target, key }
    }

    /// Sends one finding per place (URL, method, parameter) of the alert.
    /// Instances at one place become one finding that counts them, as the
    /// ZAP JSON parser does.
    fn emit_alert(&mut self, site: &Site, mut alert: Alert) {
        let instances = std::mem::take(&mut alert.instances);
        let template = alert_finding(&alert, site);
        if instances.is_empty() {
            let mut finding = template;
            finding.location.url = Some(site.target.clone()).filter(|t| t.contains("://"));
            finding.description = describe(&alert, None);
            self.sink.finding(finding);
            return;
        }

        let mut places: Vec<(Finding, usize)> = Vec::new();
        let mut index_of: BTreeMap<Place, usize> = BTreeMap::new();
        for instance in instances {
            let url = util::non_empty(instance.uri.as_deref());
            let method = util::non_empty(instance.method.as_deref()).map(|m| m.to_ascii_uppercase());
            let parameter = util::non_empty(instance.param.as_deref());
            let place = (url.clone(), method.clone(), parameter.clone());
            if let Some(&index) = index_of.get(&place) {
                let (finding, count) = &mut places[index];
                *count += 1;
                if finding.evidence.is_none() {
                    finding.evidence = evidence(instance.evidence.as_deref());
                }
                continue;
            }

            let mut finding = template.clone();
            finding.location.url = url;
            finding.location.method = method;
            finding.location.parameter = parameter;
            finding.evidence = evidence(instance.evidence.as_deref());
            if let Some(attack) = util::non_empty(instance.attack.as_deref()) {
                let attack = mask_http_credentials(&attack);
                finding.attributes.insert("attack".to_string(), attack);
            }
            finding.description = describe(&alert, instance.otherinfo.as_deref());
            index_of.insert(place, places.len());
            places.push((finding, 1));
        }

        for (mut finding, count) in places {
            if count > 1 {
                finding.attributes.insert("instances".to_string(), count.to_string());
            }
            self.sink.finding(finding);
        }
    }
}

/// Returns the site's `name`, or `scheme://host:port` built from its parts.
fn site_name(name: Option<String>, host: Option<&str>, port: Option<&str>, ssl: Option<String>) -> Option<String> {
    if let Some(name) = util::non_empty(name.as_deref()) {
        return Some(name);
    }
    let host = util::non_empty(host)?;
    let scheme = if ssl.as_deref().is_some_and(|s| s.trim() == "true") {
        "https"
    } else {
        "http"
    };
    Some(match util::non_empty(port) {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

/// Returns an instance's evidence with credentials masked, cut to
/// [`EVIDENCE_BYTES`].
fn evidence(text: Option<&str>) -> Option<String> {
    let text = util::non_empty(text)?;
    Some(util::truncate_text(&mask_http_credentials(&text), EVIDENCE_BYTES))
}

/// Builds the part of a finding that every instance of the alert shares.
fn alert_finding(alert: &Alert, site: &Site) -> Finding {
    let plugin = util::non_empty(alert.pluginid.as_deref());
    let alert_ref = util::non_empty(alert.alert_ref.as_deref());
    let name = util::non_empty(alert.name.as_deref());
    let alert_text = util::non_empty(alert.alert.as_deref());
    let title = name
        .clone()
        .or_else(|| alert_text.clone())
        .or_else(|| plugin.as_ref().map(|p| format!("ZAP alert {p}")))
        .unwrap_or_else(|| "ZAP alert without a name".to_string());
    let rule_id = plugin
        .clone()
        .or_else(|| alert_ref.clone())
        .unwrap_or_else(|| title.clone());

    let mut finding = Finding::new(
        TOOL,
        rule_id,
        FindingKind::WebWeakness,
        title,
        severity(alert),
        site.key.clone(),
    );
    finding.target = Some(site.target.clone());

    if let Some(cwe) = util::non_empty(alert.cweid.as_deref()).filter(|c| c.parse::<i64>().is_ok_and(|n| n > 0)) {
        util::add_cwe(&mut finding, &cwe);
    }
    finding.fix.description = alert
        .solution
        .as_deref()
        .map(plain_text)
        .filter(|text| !text.is_empty());
    if let Some(reference) = alert.reference.as_deref() {
        finding.references = plain_text(reference)
            .split('\n')
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_string)
            .collect();
    }

    let confidence = util::non_empty(alert.confidence.as_deref());
    finding.source_status = match confidence.as_deref() {
        Some("0") => Some(SourceStatus::FalsePositive),
        Some("4") => Some(SourceStatus::Affected),
        _ => None,
    };
    if let Some(confidence) = confidence {
        let word = match confidence.as_str() {
            "0" => "false positive",
            "1" => "low",
            "2" => "medium",
            "3" => "high",
            "4" => "confirmed",
            other => other,
        };
        finding.attributes.insert("confidence".to_string(), word.to_string());
    }
    if alert_ref.is_some() && alert_ref != plugin {
        finding
            .attributes
            .extend(alert_ref.map(|r| ("alert_ref".to_string(), r)));
    }
    if let (Some(name), Some(alert_text)) = (&name, alert_text)
        && *name != alert_text
    {
        finding.attributes.insert("alert".to_string(), alert_text);
    }
    for (name, value) in [("wasc_id", &alert.wascid), ("source_id", &alert.sourceid)] {
        if let Some(value) = util::non_empty(value.as_deref()).filter(|v| v != "-1" && v != "0") {
            finding.attributes.insert(name.to_string(), value);
        }
    }
    finding
}

/// Maps `riskcode` (0 to 3) to a severity, with the first word of
/// `riskdesc` (`Medium (High)`) as fallback.
fn severity(alert: &Alert) -> Severity {
    match alert.riskcode.as_deref().map(str::trim) {
        Some("0") => return Severity::Info,
        Some("1") => return Severity::Low,
        Some("2") => return Severity::Medium,
        Some("3") => return Severity::High,
        _ => {}
    }
    let word = alert.riskdesc.as_deref().and_then(|d| d.split_whitespace().next());
    word.and_then(|w| w.parse().ok()).unwrap_or(Severity::Info)
}

/// Turns ZAP's HTML paragraphs into plain text, with the indentation that
/// a pretty-printed report adds to each line removed.
fn plain_text(html: &str) -> String {
    let text = util::html_paragraphs_to_text(html);
    text.split("\n\n")
        .map(|paragraph| {
            paragraph
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .filter(|paragraph| !paragraph.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Returns the alert's description as plain text, followed by the
/// instance's (or else the alert's) other information, with credentials
/// masked.
fn describe(alert: &Alert, instance_other_info: Option<&str>) -> Option<String> {
    let description = alert.desc.as_deref().map(plain_text).unwrap_or_default();
    let other = util::non_empty(instance_other_info)
        .or_else(|| util::non_empty(alert.otherinfo.as_deref()))
        .map(|text| mask_http_credentials(&plain_text(&text)))
        .filter(|text| !text.is_empty());
    let text = match other {
        Some(other) if description.is_empty() => other,
        Some(other) => format!("{description}\n\nOther information: {other}"),
        None => description,
    };
    (!text.is_empty()).then_some(text)
}
