//! Nuclei JSON results: `nuclei -jsonl -o results.jsonl` (one JSON object
//! per line) and `nuclei -json-export results.json` (one JSON array).
//!
//! # Reads
//!
//! The result objects of Nuclei 2.x and 3.x: `template-id` (`templateID`
//! before 2.6), `template`, `template-path`, `template-url`, `info`
//! {`name`, `severity`, `description`, `impact`, `remediation`, `tags`,
//! `reference`, `classification` {`cve-id`, `cwe-id`, `cvss-metrics`,
//! `cvss-score`, `epss-score`, `epss-percentile`, `cpe`}}, `type` (`http`,
//! `dns`, `network`, `ssl`, `tcp`, `javascript`, ...), `host`, `port`,
//! `url`, `matched-at` (`matched` before 2.6), `matcher-name`
//! (`matcher_name`), `extractor-name`, `extracted-results`
//! (`extracted_results`), `ip`, `meta` and `matcher-status`. Fields that
//! are a string in one version and an array in another (`tags`,
//! `reference`, `author`) are read in both forms. An empty file is a scan
//! without results.
//!
//! # Field mapping
//!
//! One finding per template, matcher (or extractor) and place
//! (`matched-at`). Consecutive results at the same place (the same
//! template extracting `tls12`, then `tls13`) make one finding with every
//! extracted value and the count in the `instances` attribute. Results
//! with `matcher-status` false (written by `-matcher-status`) matched
//! nothing and are skipped.
//!
//! | report | finding |
//! | --- | --- |
//! | `template-id` | `rule_id` |
//! | `info.name` | `title` |
//! | `info.severity` (else the CVSS score, else Info; `unknown` counts as missing) | `severity` |
//! | `classification.cve-id`, `cwe-id`, `cvss-metrics` | `vulnerability_ids`, `cwes`, `cvss` |
//! | `info.description`, `info.impact` | `description` |
//! | `info.remediation` | `fix.description` |
//! | `info.reference` | `references` |
//! | `matched-at` (a URL) | `location.url` |
//! | the port of `matched-at` (`host:port`) | `location.port`, `protocol` tcp |
//! | `matcher-name`, else `extractor-name` | `location.parameter`, `matcher` attribute |
//! | `extracted-results` | `evidence` (4 KiB at most) |
//! | `type`, `ip`, `template`, `template-url`, `tags`, `cvss-score`, `epss-score`, `epss-percentile`, `cpe` | `attributes` |
//!
//! Kind, in this order:
//!
//! - `Secret` for token and key exposure templates (tags `token`,
//!   `tokens`, `secret`, `secrets`, `keys`) that extracted a value;
//! - `Vulnerability` for templates with a CVE id;
//! - `WebWeakness` for results at an http or https URL;
//! - `Misconfiguration` for `dns` results;
//! - `ExposedService` for the other network results (`network`, `ssl`,
//!   `tcp`).
//!
//! Secrets: the value that a token template extracted, and the `meta`
//! values whose names speak of a password, secret, token or key (the
//! credentials a default-login template found), become the masked
//! `secret` and are masked wherever else they occur. Cookie values in the
//! results of cookie templates are masked. `request`, `response` and
//! `curl-command` are never read: they hold whole messages, cookies and
//! form data.
//!
//! # Scope target
//!
//! Each result's `host` (the input Nuclei scanned), else the origin or
//! host of `matched-at`, else [`ParseContext::default_target`]. The asset
//! is a [`AssetKind::WebApp`] keyed by the origin for results at a URL,
//! else a [`AssetKind::Host`] keyed by the host name (the resolved `ip` as
//! an identifier), with a [`AssetKind::Service`] per port that the host
//! `Hosts`. A result that names no place at all is on an
//! [`AssetKind::Other`] asset keyed by the default target.
//!
//! # Fingerprint
//!
//! Tool `nuclei`, template id, the asset, the URL, the matcher (or
//! extractor) name, and the port and protocol.
//!
//! # Not read yet
//!
//! `timestamp`, `matched-line`, `info.author`, `info.metadata`, and the
//! request and response (never kept).
//!
//! # Reference
//!
//! <https://docs.projectdiscovery.io/tools/nuclei/running#output-formats>
//! and the `ResultEvent` type of `pkg/output/output.go` in
//! projectdiscovery/nuclei.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::BufRead;

use ctem_model::{
    Asset, AssetKey, AssetKind, Finding, FindingKind, Fingerprint, MaskedSecret, Relationship, RelationshipKind,
};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use super::dast_shared::{
    EVIDENCE_BYTES, LimitedReader, MAX_RECORD_BYTES, ObjectOnly, Origin, RecordLimit, mask_cookie_pairs,
    mask_http_credentials, mask_values, valid_ip,
};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Position, Sink, util};

const FORMAT_ID: &str = "nuclei-jsonl";
const TOOL: &str = "nuclei";
/// Tags of templates that extract a secret (Nuclei's `exposures/tokens`).
const SECRET_TAGS: &[&str] = &["token", "tokens", "secret", "secrets", "keys"];
/// Words in `meta` keys whose values are credentials.
const SECRET_META_WORDS: &[&str] = &["pass", "pwd", "secret", "token", "key"];

/// The Nuclei JSON lines parser.
pub struct NucleiJsonl;

impl Parser for NucleiJsonl {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Nuclei JSON lines",
            tool: "Nuclei",
            versions: "2.x and 3.x -jsonl output and -json-export array",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if !head.starts_with(b"{") && !head.starts_with(b"[") {
            return Detection::No;
        }
        let has = |needle: &[u8]| util::contains(head, needle);
        let template = has(b"\"template-id\"") || has(b"\"templateID\"");
        let matched = has(b"\"matched-at\"") || has(b"\"matched\"");
        if template && has(b"\"info\"") && (matched || has(b"\"matcher-status\"")) {
            return Detection::Certain;
        }
        if template && has(b"\"info\"") {
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
        let limit = RecordLimit::new(MAX_RECORD_BYTES);
        let mut reader = LimitedReader::new(reader, limit.clone());
        let (first, skipped) = first_byte(&mut reader)
            .map_err(|error| ParseError::new(context.path, FORMAT_ID, None, format!("read failed: {error}")))?;
        let mut state = State {
            context,
            sink,
            targets: BTreeSet::new(),
            assets: BTreeSet::new(),
            pending: None,
        };
        let json_error = |error: serde_json::Error| {
            if limit.exceeded() {
                let position = Position::LineColumn {
                    line: error.line() as u64,
                    column: error.column() as u64,
                };
                let message = format!(
                    "one result is longer than {} MiB; the file is corrupt or not a Nuclei output",
                    limit.max_mib()
                );
                return ParseError::new(context.path, FORMAT_ID, Some(position), message);
            }
            ParseError::from_json(context.path, FORMAT_ID, &error)
        };

        match first {
            None => {}
            Some(b'[') => {
                let mut deserializer = serde_json::Deserializer::from_reader(reader);
                deserializer
                    .deserialize_seq(ArrayVisitor {
                        state: &mut state,
                        limit: &limit,
                    })
                    .and_then(|()| deserializer.end())
                    .map_err(json_error)?;
            }
            Some(_) => {
                let mut stream = serde_json::Deserializer::from_reader(reader).into_iter::<ObjectOnly<Record>>();
                while let Some(record) = stream.next() {
                    let ObjectOnly(record) = record.map_err(json_error)?;
                    limit.reset();
                    let end = (skipped + stream.byte_offset()) as u64;
                    state.record(record).map_err(|message| {
                        ParseError::new(context.path, FORMAT_ID, Some(Position::Byte(end)), message)
                    })?;
                }
            }
        }

        state.flush();
        if state.targets.is_empty() {
            state.sink.target(TOOL, context.default_target);
        }
        Ok(())
    }
}

/// Returns the first byte of the content after whitespace and a byte
/// order mark, without consuming it (`None` for an empty file), and the
/// number of bytes skipped before it.
fn first_byte(reader: &mut dyn BufRead) -> std::io::Result<(Option<u8>, usize)> {
    let mut skipped = 0;
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok((None, skipped));
        }
        if buffer.starts_with(b"\xef\xbb\xbf") {
            reader.consume(3);
            skipped += 3;
            continue;
        }
        match buffer.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(index) => {
                let byte = buffer[index];
                reader.consume(index);
                return Ok((Some(byte), skipped + index));
            }
            None => {
                let length = buffer.len();
                reader.consume(length);
                skipped += length;
            }
        }
    }
}

/// Streams the results of a `-json-export` array.
struct ArrayVisitor<'s, 'a, 'c, 'l> {
    state: &'s mut State<'a, 'c>,
    limit: &'l RecordLimit,
}

impl<'de> Visitor<'de> for ArrayVisitor<'_, '_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an array of Nuclei results")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.limit.reset();
        while let Some(ObjectOnly(record)) = seq.next_element::<ObjectOnly<Record>>()? {
            self.limit.reset();
            self.state.record(record).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

/// One Nuclei result.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Record {
    #[serde(rename = "template-id", alias = "templateID", deserialize_with = "util::loose_text")]
    template_id: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    template: Option<String>,
    #[serde(rename = "template-url", deserialize_with = "util::loose_text")]
    template_url: Option<String>,
    info: Option<Info>,
    #[serde(rename = "type", deserialize_with = "util::loose_text")]
    kind: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    host: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    port: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    url: Option<String>,
    #[serde(rename = "matched-at", alias = "matched", deserialize_with = "util::loose_text")]
    matched_at: Option<String>,
    #[serde(
        rename = "matcher-name",
        alias = "matcher_name",
        deserialize_with = "util::loose_text"
    )]
    matcher_name: Option<String>,
    #[serde(
        rename = "extractor-name",
        alias = "extractor_name",
        deserialize_with = "util::loose_text"
    )]
    extractor_name: Option<String>,
    #[serde(
        rename = "extracted-results",
        alias = "extracted_results",
        deserialize_with = "line_list"
    )]
    extracted_results: Vec<String>,
    #[serde(deserialize_with = "util::loose_text")]
    ip: Option<String>,
    #[serde(
        rename = "matcher-status",
        alias = "matcher_status",
        deserialize_with = "util::loose_text"
    )]
    matcher_status: Option<String>,
    #[serde(deserialize_with = "scalar_map")]
    meta: BTreeMap<String, String>,
}

/// The template's description of a result.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Info {
    #[serde(deserialize_with = "util::loose_text")]
    name: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    severity: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    description: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    impact: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    remediation: Option<String>,
    #[serde(deserialize_with = "comma_list")]
    tags: Vec<String>,
    #[serde(deserialize_with = "line_list")]
    reference: Vec<String>,
    classification: Option<Classification>,
}

/// The weakness classification of a template.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Classification {
    #[serde(rename = "cve-id", deserialize_with = "comma_list")]
    cve_id: Vec<String>,
    #[serde(rename = "cwe-id", deserialize_with = "comma_list")]
    cwe_id: Vec<String>,
    #[serde(rename = "cvss-metrics", deserialize_with = "util::loose_text")]
    cvss_metrics: Option<String>,
    #[serde(rename = "cvss-score", deserialize_with = "util::loose_text")]
    cvss_score: Option<String>,
    #[serde(rename = "epss-score", deserialize_with = "util::loose_text")]
    epss_score: Option<String>,
    #[serde(rename = "epss-percentile", deserialize_with = "util::loose_text")]
    epss_percentile: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    cpe: Option<String>,
}

/// Reads a list written as an array of scalars, as one string of items
/// separated by `separators`, or as `null`.
fn text_list<'de, D: Deserializer<'de>>(deserializer: D, separators: &'static [char]) -> Result<Vec<String>, D::Error> {
    struct ListVisitor(&'static [char]);

    impl<'de> Visitor<'de> for ListVisitor {
        type Value = Vec<String>;

        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            formatter.write_str("a string or an array of strings")
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<Vec<String>, E> {
            Ok(value
                .split(self.0)
                .map(|item| item.trim().trim_start_matches("- ").trim())
                .filter(|item| !item.is_empty())
                .map(str::to_string)
                .collect())
        }

        fn visit_unit<E: de::Error>(self) -> Result<Vec<String>, E> {
            Ok(Vec::new())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element::<LooseText>()? {
                items.extend(item.0.filter(|text| !text.trim().is_empty()));
            }
            Ok(items)
        }
    }

    deserializer.deserialize_any(ListVisitor(separators))
}

/// Reads a list whose string form separates items by commas (`tags`,
/// `cve-id`).
fn comma_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    text_list(deserializer, &[','])
}

/// Reads a list whose string form has one item per line (`reference`
/// written as YAML `- url` lines).
fn line_list<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    text_list(deserializer, &['\n'])
}

/// Reads an object of scalars (`meta`); values that are no scalars, and a
/// `meta` that is no object, are skipped.
fn scalar_map<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error> {
    struct MapVisitor;

    impl<'de> Visitor<'de> for MapVisitor {
        type Value = BTreeMap<String, String>;

        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            formatter.write_str("an object")
        }

        fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut values = BTreeMap::new();
            while let Some((key, value)) = map.next_entry::<String, LooseText>()? {
                values.extend(value.0.map(|value| (key, value)));
            }
            Ok(values)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }

        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<de::IgnoredAny>()?.is_some() {}
            Ok(BTreeMap::new())
        }
    }

    deserializer.deserialize_any(MapVisitor)
}

/// A scalar read as text, as [`util::loose_text`] reads it.
#[derive(Debug, Default)]
struct LooseText(Option<String>);

impl<'de> Deserialize<'de> for LooseText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        util::loose_text(deserializer).map(LooseText)
    }
}

/// The place of a result: the web origin of a URL, or a host and port.
#[derive(Debug)]
struct Place {
    /// The URL of a result at an http or https URL.
    url: Option<String>,
    origin: Option<Origin>,
    /// The host (name or address) and port of other results.
    host: Option<String>,
    port: Option<u16>,
}

impl Place {
    /// Reads the place from `matched-at`, else `url` (Nuclei 3 writes
    /// `/http://host/` there for some protocols), else `host` and `port`.
    fn of(record: &Record) -> Place {
        let text = util::non_empty(record.matched_at.as_deref())
            .or_else(|| {
                util::non_empty(record.url.as_deref()).map(|url| match url.strip_prefix('/') {
                    Some(rest) if rest.contains("://") => rest.to_string(),
                    _ => url,
                })
            })
            .or_else(|| util::non_empty(record.host.as_deref()));
        let port = record.port.as_deref().and_then(|p| p.trim().parse::<u16>().ok());
        let Some(text) = text else {
            return Place {
                url: None,
                origin: None,
                host: None,
                port: None,
            };
        };

        if let Some(origin) = Origin::parse(&text).filter(|o| o.scheme == "http" || o.scheme == "https") {
            return Place {
                url: Some(text),
                origin: Some(origin),
                host: None,
                port: None,
            };
        }
        let parsed = Origin::parse_with_scheme(&text, "tcp");
        Place {
            url: None,
            origin: None,
            host: parsed.as_ref().map(|origin| origin.host.clone()),
            port: parsed.and_then(|origin| origin.port).or(port),
        }
    }
}

/// A finding held back for one result, so that the next result at the
/// same place can join it.
struct Pending {
    finding: Finding,
    fingerprint: Fingerprint,
    count: usize,
    extracted: Vec<String>,
    extracted_bytes: usize,
    secrets: Vec<String>,
    cookies: bool,
}

impl Pending {
    fn add_extracted(&mut self, values: Vec<String>) {
        for value in values {
            if self.extracted_bytes > EVIDENCE_BYTES || self.extracted.contains(&value) {
                continue;
            }
            self.extracted_bytes += value.len() + 1;
            self.extracted.push(value);
        }
    }

    /// Finishes the finding: the evidence from the extracted values, with
    /// secrets and cookie values masked, and the number of results.
    fn into_finding(self) -> Finding {
        let mut finding = self.finding;
        let values: Vec<String> = self
            .extracted
            .iter()
            .map(|value| {
                let value = if self.cookies {
                    mask_cookie_pairs(value)
                } else {
                    value.clone()
                };
                mask_values(&mask_http_credentials(&value), &self.secrets)
            })
            .collect();
        if !values.is_empty() {
            finding.evidence = Some(util::truncate_text(&values.join("\n"), EVIDENCE_BYTES));
        }
        if self.count > 1 {
            finding.attributes.insert("instances".into(), self.count.to_string());
        }
        finding
    }
}

/// State of one report's parse.
struct State<'a, 'c> {
    context: &'a ParseContext<'c>,
    sink: &'a mut dyn Sink,
    targets: BTreeSet<String>,
    assets: BTreeSet<AssetKey>,
    pending: Option<Pending>,
}

impl State<'_, '_> {
    /// Sends one result's target and assets, and its finding once the next
    /// result shows it is complete. Returns an error for a value that is no
    /// result object.
    fn record(&mut self, record: Record) -> Result<(), String> {
        let Some(info) = &record.info else {
            if record.template_id.is_none() {
                return Err(
                    "expected a Nuclei result with \"template-id\" and \"info\", found an object without them; \
                     is this another tool's output?"
                        .to_string(),
                );
            }
            return self.finding(&record, &Info::default());
        };
        self.finding(&record, info)
    }

    fn finding(&mut self, record: &Record, info: &Info) -> Result<(), String> {
        let place = Place::of(record);
        let target = util::non_empty(record.host.as_deref())
            .or_else(|| place.origin.as_ref().map(Origin::to_url))
            .or_else(|| place.host.clone())
            .unwrap_or_else(|| self.context.default_target.to_string());
        if self.targets.insert(target.clone()) {
            self.sink.target(TOOL, &target);
        }
        if record.matcher_status.as_deref().is_some_and(|s| s.trim() == "false") {
            return Ok(());
        }

        let asset = self.declare_assets(record, &place);
        let finding = build_finding(record, info, &place, asset, target);
        let secrets = secrets(record, info);
        let cookies = info.tags.iter().any(|tag| tag.eq_ignore_ascii_case("cookie"));
        let extracted = record.extracted_results.clone();
        let fingerprint = finding.fingerprint();

        if let Some(pending) = &mut self.pending
            && pending.fingerprint == fingerprint
        {
            pending.count += 1;
            pending.add_extracted(extracted);
            for secret in secrets {
                if !pending.secrets.contains(&secret) {
                    pending.secrets.push(secret);
                }
            }
            return Ok(());
        }

        self.flush();
        let mut pending = Pending {
            finding,
            fingerprint,
            count: 1,
            extracted: Vec::new(),
            extracted_bytes: 0,
            secrets,
            cookies,
        };
        pending.add_extracted(extracted);
        self.pending = Some(pending);
        Ok(())
    }

    /// Sends the held finding.
    fn flush(&mut self) {
        if let Some(pending) = self.pending.take() {
            self.sink.finding(pending.into_finding());
        }
    }

    /// Sends the result's assets once each, and returns the key of the
    /// asset its finding is on.
    fn declare_assets(&mut self, record: &Record, place: &Place) -> AssetKey {
        let ip = record.ip.as_deref().and_then(valid_ip);
        if let Some(origin) = &place.origin {
            let asset = origin.asset(ip.as_deref());
            return self.send_asset(asset);
        }
        let Some(host) = &place.host else {
            let target = self.context.default_target;
            return self.send_asset(Asset::new(AssetKind::Other, target, target));
        };

        let mut asset = Asset::new(AssetKind::Host, host, host.clone());
        if let Some(address) = valid_ip(host) {
            asset.add_identifier("ip", address);
        } else {
            asset.add_identifier("hostname", host.clone());
        }
        if let Some(ip) = ip {
            asset.add_identifier("ip", ip);
        }
        let host_key = self.send_asset(asset);
        if let Some(port) = place.port {
            let identifier = format!("{}:{port}/tcp", host_key.identifier());
            let service = Asset::new(AssetKind::Service, &identifier, identifier.clone());
            let service_key = service.key.clone();
            if self.assets.insert(service_key.clone()) {
                self.sink.asset(service);
                let mut relationship = Relationship::new(host_key.clone(), RelationshipKind::Hosts, service_key);
                relationship.port = Some(port);
                relationship.protocol = Some("tcp".into());
                self.sink.relationship(relationship);
            }
        }
        host_key
    }

    fn send_asset(&mut self, asset: Asset) -> AssetKey {
        let key = asset.key.clone();
        if self.assets.insert(key.clone()) {
            self.sink.asset(asset);
        }
        key
    }
}

/// Returns the clear secrets of a result: the values that a token template
/// extracted, and the credential values of `meta`.
fn secrets(record: &Record, info: &Info) -> Vec<String> {
    let mut secrets: Vec<String> = Vec::new();
    if is_secret_template(info) {
        secrets.extend(record.extracted_results.iter().cloned());
    }
    for (key, value) in &record.meta {
        let key = key.to_ascii_lowercase();
        if SECRET_META_WORDS.iter().any(|word| key.contains(word)) && !value.trim().is_empty() {
            secrets.push(value.clone());
        }
    }
    secrets
}

fn is_secret_template(info: &Info) -> bool {
    info.tags
        .iter()
        .any(|tag| SECRET_TAGS.iter().any(|secret| tag.eq_ignore_ascii_case(secret)))
}

/// Builds the finding of one result; the evidence is added when the
/// result is flushed.
fn build_finding(record: &Record, info: &Info, place: &Place, asset: AssetKey, target: String) -> Finding {
    let template_id = util::non_empty(record.template_id.as_deref());
    let title = util::non_empty(info.name.as_deref())
        .or_else(|| template_id.clone())
        .unwrap_or_else(|| "Nuclei result without a template".to_string());
    let rule_id = template_id.unwrap_or_else(|| title.clone());
    let classification = info.classification.as_ref();
    let has_cve = classification.is_some_and(|c| c.cve_id.iter().any(|id| id.trim().len() > 4));
    let kind = match record.kind.as_deref().map(str::to_ascii_lowercase).as_deref() {
        _ if is_secret_template(info) && !record.extracted_results.is_empty() => FindingKind::Secret,
        _ if has_cve => FindingKind::Vulnerability,
        _ if place.origin.is_some() => FindingKind::WebWeakness,
        Some("dns") => FindingKind::Misconfiguration,
        _ => FindingKind::ExposedService,
    };

    let mut finding = Finding::new(TOOL, rule_id, kind, title, ctem_model::Severity::Info, asset);
    finding.target = Some(target);
    if let Some(classification) = classification {
        for id in &classification.cve_id {
            util::add_vulnerability_id(&mut finding, id);
        }
        for cwe in &classification.cwe_id {
            util::add_cwe(&mut finding, cwe);
        }
        if let Some(vector) = util::non_empty(classification.cvss_metrics.as_deref()) {
            util::add_cvss(&mut finding, &vector);
        }
    }
    let word = util::non_empty(info.severity.as_deref()).filter(|word| !word.eq_ignore_ascii_case("unknown"));
    finding.severity = util::severity_or_cvss(word.as_deref(), &finding);

    let secrets = secrets(record, info);
    finding.secret = secrets.first().map(|secret| MaskedSecret::new(secret));
    let mask = |text: &str| mask_values(text, &secrets);
    finding.title = mask(&finding.title);
    let description = util::non_empty(info.description.as_deref());
    let impact = util::non_empty(info.impact.as_deref()).map(|impact| format!("Impact: {impact}"));
    let text = [description, impact]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n\n");
    finding.description = util::non_empty(Some(&mask(&text)));
    finding.fix.description = util::non_empty(info.remediation.as_deref()).map(|text| mask(&text));
    for reference in &info.reference {
        if !finding.references.contains(reference) {
            finding.references.push(reference.clone());
        }
    }

    finding.location.url = place.url.as_deref().map(mask);
    if place.origin.is_none()
        && let Some(port) = place.port
    {
        finding.location.port = Some(port);
        finding.location.protocol = Some("tcp".into());
    }
    let matcher =
        util::non_empty(record.matcher_name.as_deref()).or_else(|| util::non_empty(record.extractor_name.as_deref()));
    finding.location.parameter = matcher.clone();

    let attributes = [
        ("matcher", matcher),
        ("type", util::non_empty(record.kind.as_deref())),
        ("ip", record.ip.as_deref().and_then(valid_ip)),
        ("template", util::non_empty(record.template.as_deref())),
        ("template_url", util::non_empty(record.template_url.as_deref())),
        ("tags", (!info.tags.is_empty()).then(|| info.tags.join(","))),
        (
            "cvss_score",
            classification.and_then(|c| util::non_empty(c.cvss_score.as_deref())),
        ),
        (
            "epss_score",
            classification.and_then(|c| util::non_empty(c.epss_score.as_deref())),
        ),
        (
            "epss_percentile",
            classification.and_then(|c| util::non_empty(c.epss_percentile.as_deref())),
        ),
        ("cpe", classification.and_then(|c| util::non_empty(c.cpe.as_deref()))),
    ];
    for (name, value) in attributes {
        if let Some(value) = value {
            finding.attributes.insert(name.into(), value);
        }
    }
    for (key, value) in &record.meta {
        let lower = key.to_ascii_lowercase();
        if !SECRET_META_WORDS.iter().any(|word| lower.contains(word)) {
            finding.attributes.insert(format!("meta.{key}"), mask(value));
        }
    }
    finding
}
