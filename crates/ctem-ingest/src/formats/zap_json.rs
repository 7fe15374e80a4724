//! OWASP ZAP traditional JSON reports: the alerts of a dynamic scan of one
//! or more web sites.
//!
//! # Reads
//!
//! The "Traditional JSON Report" of ZAP 2.x (`-J report.json` in the
//! packaged scans, `traditional-json` and `traditional-json-plus` templates),
//! as written by ZAP 2.9 to 2.16 and the weekly builds: a root object with
//! `@programName` (2.12 and later), `@version`, `@generated` and `site`.
//! Each site has `@name` (`scheme://host:port`), `@host`, `@port`, `@ssl`
//! and `alerts`. Each alert has `pluginid`, `alertRef`, `alert`/`name`,
//! `riskcode` (0 to 3), `confidence` (0 to 4), `desc`, `solution`,
//! `reference`, `otherinfo`, `cweid`, `wascid` and `instances`, each
//! instance with `uri`, `method`, `param`, `attack`, `evidence` and
//! `otherinfo`. ZAP writes every number as a string; both forms are read.
//!
//! A report that declares a `@version` with a major version other than 2 is
//! rejected. Versions that are not numbers (weekly builds such as
//! `D-2024-01-08`) are read.
//!
//! # Field mapping
//!
//! One finding per alert and place (instance `uri`, `method` and `param`).
//! Instances of one alert at the same place differ only in their evidence
//! (each timestamp that "Timestamp Disclosure" found on one page), so they
//! make one finding, with the first evidence and the number of instances
//! in the `instances` attribute. An alert without instances gives one
//! finding at the site's URL.
//!
//! | report | finding |
//! | --- | --- |
//! | `pluginid` (else `alertRef`) | `rule_id` |
//! | `name`, else `alert` | `title` |
//! | `riskcode` 0, 1, 2, 3 (else the first word of `riskdesc`) | `severity` Info, Low, Medium, High |
//! | (always) | `kind` WebWeakness |
//! | `desc` as plain text, then the instance's (else the alert's) `otherinfo` | `description` |
//! | `solution` as plain text | `fix.description` |
//! | `reference`, one entry per paragraph | `references` |
//! | `cweid` above 0 | `cwes` |
//! | instance `uri`, `method`, `param` | `location.url`, `method`, `parameter` |
//! | instance `evidence` | `evidence` |
//! | `confidence` 0 (false positive) or 4 (confirmed by a user) | `source_status` FalsePositive or Affected |
//! | `confidence`, `alertRef`, `wascid`, `sourceid`, instance `attack` | `attributes` |
//!
//! ZAP's descriptions are HTML fragments (`<p>...</p>`); they become plain
//! paragraphs separated by a blank line.
//!
//! # Scope target
//!
//! Each site's `@name`. The asset is a [`AssetKind::WebApp`] keyed by the
//! same name, with `url`, `hostname` (or `ip`) and `port` identifiers. A
//! report without sites covers [`ParseContext::default_target`].
//!
//! # Fingerprint
//!
//! Tool, plugin id, the site asset, and the instance's URL, method and
//! parameter. The plugin id is used rather than `alertRef`, because ZAP
//! renamed alert references between releases (`10020` in 2.11.0 became
//! `10020-1` in 2.11.1), which would reopen every finding after an upgrade.
//!
//! # Not read yet
//!
//! The request and response headers and bodies of `traditional-json-plus`;
//! `@generated` (the scan date); the alert tags of ZAP 2.12 and later.
//!
//! # Memory
//!
//! Sites and alerts stream. One alert is held with all its instances,
//! because ZAP writes the alert's description and solution after the
//! instances that need them.
//!
//! # Reference
//!
//! <https://www.zaproxy.org/docs/desktop/addons/report-generation/report-traditional-json/>

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::BufRead;
use std::net::IpAddr;

use ctem_model::{Asset, AssetKey, AssetKind, Finding, FindingKind, Severity, SourceStatus};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::util;
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink};

const FORMAT_ID: &str = "zap-json";
const TOOL: &str = "zap";

/// The ZAP traditional JSON report parser.
pub struct ZapJson;

impl Parser for ZapJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "OWASP ZAP traditional JSON",
            tool: "OWASP ZAP",
            versions: "2.x traditional JSON report",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if !head.starts_with(b"{") {
            return Detection::No;
        }
        let has = |needle: &[u8]| util::contains(head, needle);
        if has(b"\"@programName\"") && has(b"ZAP") {
            return Detection::Certain;
        }
        let has_site = has(b"\"site\"");
        if has_site && (has(b"\"@generated\"") || has(b"\"@version\"")) && has(b"\"alerts\"") {
            return Detection::Certain;
        }
        if has_site && has(b"\"alerts\"") {
            return Detection::Maybe;
        }
        Detection::No
    }

    fn parse(
        &self,
        context: &ParseContext<'_>,
        reader: &mut dyn BufRead,
        sink: &mut dyn Sink,
    ) -> Result<(), ParseError> {
        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        let mut state = ReportState {
            context,
            sink,
            sites: BTreeSet::new(),
        };
        deserializer
            .deserialize_map(RootVisitor { state: &mut state })
            .and_then(|()| deserializer.end())
            .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))?;

        if state.sites.is_empty() {
            state.sink.target(TOOL, context.default_target);
        }
        Ok(())
    }
}

/// State of one report's parse: the sink and the sites already declared.
struct ReportState<'a, 'c> {
    context: &'a ParseContext<'c>,
    sink: &'a mut dyn Sink,
    /// Names of the sites whose asset and scope target were sent.
    sites: BTreeSet<String>,
}

/// Reads the root object: checks the version and streams the sites.
struct RootVisitor<'s, 'a, 'c> {
    state: &'s mut ReportState<'a, 'c>,
}

impl<'de> Visitor<'de> for RootVisitor<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a ZAP JSON report: an object with a \"site\" array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen_site = false;
        let mut other_keys = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "@version" => {
                    let version: Option<String> = map.next_value_seed(LooseTextSeed)?;
                    check_version(version.as_deref()).map_err(de::Error::custom)?;
                }
                "site" => {
                    seen_site = true;
                    map.next_value_seed(SitesSeed { state: self.state })?;
                }
                _ => {
                    if other_keys.len() < 5 {
                        other_keys.push(key);
                    }
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !seen_site {
            return Err(de::Error::custom(format!(
                "expected a ZAP JSON report with a \"site\" array, found an object with keys {other_keys:?}; \
                 is this another tool's report?"
            )));
        }
        Ok(())
    }
}

/// Rejects a major version other than 2; accepts weekly build names.
fn check_version(version: Option<&str>) -> Result<(), String> {
    let Some(version) = version.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(());
    };
    let major = version.split('.').next().and_then(|part| part.parse::<u32>().ok());
    match major {
        Some(2) | None => Ok(()),
        Some(_) => Err(format!(
            "unsupported ZAP version {version:?}: this parser reads the traditional JSON report of ZAP 2.x"
        )),
    }
}

/// Reads a scalar field as text through [`util::loose_text`].
struct LooseTextSeed;

impl<'de> DeserializeSeed<'de> for LooseTextSeed {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<String>, D::Error> {
        util::loose_text(deserializer)
    }
}

/// Streams the `site` array, one site at a time.
struct SitesSeed<'s, 'a, 'c> {
    state: &'s mut ReportState<'a, 'c>,
}

impl<'de> DeserializeSeed<'de> for SitesSeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for SitesSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an array of sites")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(SiteSeed { state: self.state })?.is_some() {}
        Ok(())
    }
}

/// The attributes of one site, as far as they have been read.
#[derive(Debug, Default)]
struct SiteInfo {
    name: Option<String>,
    host: Option<String>,
    port: Option<String>,
    ssl: Option<String>,
}

/// A site as the findings name it: its key, target and asset.
struct Site {
    target: String,
    key: AssetKey,
}

/// Reads one site object and streams its alerts.
struct SiteSeed<'s, 'a, 'c> {
    state: &'s mut ReportState<'a, 'c>,
}

impl<'de> DeserializeSeed<'de> for SiteSeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SiteSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a site object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut info = SiteInfo::default();
        // Alerts that came before the site's name, held until the name is known.
        let mut early_alerts: Vec<Alert> = Vec::new();
        let mut site: Option<Site> = None;

        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "@name" => info.name = map.next_value_seed(LooseTextSeed)?,
                "@host" => info.host = map.next_value_seed(LooseTextSeed)?,
                "@port" => info.port = map.next_value_seed(LooseTextSeed)?,
                "@ssl" => info.ssl = map.next_value_seed(LooseTextSeed)?,
                "alerts" => {
                    if site.is_none() && info.name.is_some() {
                        site = Some(self.state.declare_site(&info));
                    }
                    map.next_value_seed(AlertsSeed {
                        state: self.state,
                        site: site.as_ref(),
                        held: &mut early_alerts,
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        let site = match site {
            Some(site) => site,
            None => self.state.declare_site(&info),
        };
        for alert in early_alerts {
            self.state.emit_alert(&site, alert);
        }
        Ok(())
    }
}

/// Streams an `alerts` array: each alert is emitted when its site is known,
/// and held otherwise.
struct AlertsSeed<'s, 'a, 'c, 'h> {
    state: &'s mut ReportState<'a, 'c>,
    site: Option<&'h Site>,
    held: &'h mut Vec<Alert>,
}

impl<'de> DeserializeSeed<'de> for AlertsSeed<'_, '_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for AlertsSeed<'_, '_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an array of alerts")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(alert) = seq.next_element::<Alert>()? {
            match self.site {
                Some(site) => self.state.emit_alert(site, alert),
                None => self.held.push(alert),
            }
        }
        Ok(())
    }
}

/// One alert: a plugin's result with every place it was seen.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Alert {
    #[serde(deserialize_with = "util::loose_text")]
    pluginid: Option<String>,
    #[serde(rename = "alertRef", deserialize_with = "util::loose_text")]
    alert_ref: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    alert: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    name: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    riskcode: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    riskdesc: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    confidence: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    desc: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    solution: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    otherinfo: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    reference: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    cweid: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    wascid: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    sourceid: Option<String>,
    instances: Vec<Instance>,
}

/// An instance's URL, HTTP method and parameter.
type Place = (Option<String>, Option<String>, Option<String>);

/// One place where an alert was seen.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Instance {
    #[serde(deserialize_with = "util::loose_text")]
    uri: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    method: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    param: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    attack: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    evidence: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    otherinfo: Option<String>,
}

impl ReportState<'_, '_> {
    /// Sends the site's asset and scope target unless they were sent, and
    /// returns the site as findings name it.
    fn declare_site(&mut self, info: &SiteInfo) -> Site {
        let target = site_name(info).unwrap_or_else(|| self.context.default_target.to_string());
        let key = AssetKey::new(AssetKind::WebApp, &target);
        if self.sites.insert(target.clone()) {
            let mut asset = Asset::new(AssetKind::WebApp, &target, target.clone());
            if target.contains("://") {
                asset.add_identifier("url", target.clone());
            }
            if let Some(host) = util::non_empty(info.host.as_deref()) {
                let kind = if host.parse::<IpAddr>().is_ok() {
                    "ip"
                } else {
                    "hostname"
                };
                asset.add_identifier(kind, host);
            }
            if let Some(port) = info.port.as_deref().and_then(|p| p.trim().parse::<u16>().ok()) {
                asset.add_identifier("port", port.to_string());
            }
            self.sink.asset(asset);
            self.sink.target(TOOL, &target);
        }
        Site { target, key }
    }

    /// Sends one finding per place (URL, method, parameter) of the alert.
    /// Instances at the same place differ only in evidence (such as 755
    /// timestamps found on the pages of one site) and would share a
    /// fingerprint. So they become one finding that keeps the first
    /// evidence and counts the instances in the `instances` attribute.
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
                    finding.evidence = util::non_empty(instance.evidence.as_deref());
                }
                continue;
            }

            let mut finding = template.clone();
            finding.location.url = url;
            finding.location.method = method;
            finding.location.parameter = parameter;
            finding.evidence = util::non_empty(instance.evidence.as_deref());
            if let Some(attack) = util::non_empty(instance.attack.as_deref()) {
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

/// Returns the site's `@name`, or `scheme://host:port` built from its parts.
fn site_name(info: &SiteInfo) -> Option<String> {
    if let Some(name) = util::non_empty(info.name.as_deref()) {
        return Some(name);
    }
    let host = util::non_empty(info.host.as_deref())?;
    let scheme = if info.ssl.as_deref().is_some_and(|s| s.trim() == "true") {
        "https"
    } else {
        "http"
    };
    Some(match util::non_empty(info.port.as_deref()) {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    })
}

/// Builds the part of a finding that every instance of the alert shares.
fn alert_finding(alert: &Alert, site: &Site) -> Finding {
    let plugin = util::non_empty(alert.pluginid.as_deref());
    let alert_ref = util::non_empty(alert.alert_ref.as_deref());
    let title = util::non_empty(alert.name.as_deref())
        .or_else(|| util::non_empty(alert.alert.as_deref()))
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
        .map(util::html_paragraphs_to_text)
        .filter(|text| !text.is_empty());
    if let Some(reference) = alert.reference.as_deref() {
        finding.references = util::html_paragraphs_to_text(reference)
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

/// Returns the alert's description as plain text, followed by the
/// instance's (or else the alert's) other information.
fn describe(alert: &Alert, instance_other_info: Option<&str>) -> Option<String> {
    let description = alert
        .desc
        .as_deref()
        .map(util::html_paragraphs_to_text)
        .unwrap_or_default();
    let other = util::non_empty(instance_other_info)
        .or_else(|| util::non_empty(alert.otherinfo.as_deref()))
        .map(|text| util::html_paragraphs_to_text(&text))
        .filter(|text| !text.is_empty());
    let text = match other {
        Some(other) if description.is_empty() => other,
        Some(other) => format!("{description}\n\nOther information: {other}"),
        None => description,
    };
    (!text.is_empty()).then_some(text)
}
