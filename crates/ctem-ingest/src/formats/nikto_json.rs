//! Nikto JSON reports: the results of a Nikto web server scan
//! (`nikto -Format json -output report.json`).
//!
//! # Reads
//!
//! The JSON of Nikto 2.1.6 to 2.5: one host object {`host`, `ip`, `port`,
//! `banner`, `vulnerabilities`}, or an array of them (Nikto 2.5, and a scan
//! of several hosts). Each vulnerability has `id`, `OSVDB` (up to 2.1.6),
//! `method`, `url`, `msg` and, in Nikto 2.5, `references`.
//!
//! # Field mapping
//!
//! One finding per vulnerability, as for Nikto XML (`nikto-xml`):
//!
//! | report | finding |
//! | --- | --- |
//! | `id` | `rule_id` |
//! | `msg` (the `<url>:` that Nikto 2.5 puts first removed) | `title`, `description` |
//! | (none: Nikto rates nothing) | `severity` Info |
//! | (always) | `kind` WebWeakness |
//! | `OSVDB` other than 0 | vulnerability id `OSVDB:n` |
//! | `references` | `references` |
//! | the host's origin and `url` | `location.url` |
//! | `method` | `location.method` |
//! | the header of a generic header check (ids 999100, 999986) | `location.parameter` |
//! | a default account's password (`PW '...'`) | `secret`, masked in title and description |
//!
//! # Scope target
//!
//! The origin of each host object: `host` (or `ip`) and `port`, with
//! `https` for ports 443 and 8443 and `http` otherwise, because the JSON
//! names no scheme. The asset is a [`ctem_model::AssetKind::WebApp`] keyed
//! by that origin, with `url`, `hostname`, `ip` and `port` identifiers and
//! the `banner` as its `server` attribute. A report without hosts covers
//! [`ParseContext::default_target`].
//!
//! # Fingerprint
//!
//! Tool `nikto`, the id, the site, the URL, the method and the header of a
//! generic header check, as for Nikto XML.
//!
//! # Not read yet
//!
//! Nothing else is in the format.
//!
//! # Reference
//!
//! <https://github.com/sullo/nikto/wiki/Output-Formats>

use std::fmt;
use std::io::BufRead;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::dast_shared::{LimitedReader, MAX_RECORD_BYTES, ObjectOnly, RecordLimit};
use super::nikto_shared::{self, NiktoItem, NiktoSite, NiktoSites, SiteFacts};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Position, Sink, util};

const FORMAT_ID: &str = "nikto-json";

/// The Nikto JSON parser.
pub struct NiktoJson;

impl Parser for NiktoJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Nikto JSON",
            tool: "Nikto",
            versions: "2.1.6 to 2.5",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if !head.starts_with(b"{") && !head.starts_with(b"[") {
            return Detection::No;
        }
        let has = |needle: &[u8]| util::contains(head, needle);
        let nikto_item = has(b"\"msg\"") && has(b"\"method\"") && has(b"\"url\"");
        let nikto_host = has(b"\"host\"") && has(b"\"port\"") && has(b"\"banner\"");
        if has(b"\"vulnerabilities\"") && nikto_host {
            return Detection::Certain;
        }
        if has(b"\"vulnerabilities\"") && nikto_item && (has(b"\"OSVDB\"") || has(b"\"host\"")) {
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
        let mut deserializer = serde_json::Deserializer::from_reader(LimitedReader::new(reader, limit.clone()));
        let mut state = State {
            context,
            sink,
            sites: NiktoSites::default(),
            limit: limit.clone(),
        };
        deserializer
            .deserialize_any(RootVisitor { state: &mut state })
            .and_then(|()| deserializer.end())
            .map_err(|error| {
                if limit.exceeded() {
                    let position = Position::LineColumn {
                        line: error.line() as u64,
                        column: error.column() as u64,
                    };
                    let message = format!(
                        "one vulnerability is longer than {} MiB; the file is corrupt or not a Nikto report",
                        limit.max_mib()
                    );
                    return ParseError::new(context.path, FORMAT_ID, Some(position), message);
                }
                ParseError::from_json(context.path, FORMAT_ID, &error)
            })?;
        state.sites.finish(context, state.sink);
        Ok(())
    }
}

/// State of one report's parse.
struct State<'a, 'c> {
    context: &'a ParseContext<'c>,
    sink: &'a mut dyn Sink,
    sites: NiktoSites,
    limit: RecordLimit,
}

/// Reads the root: one host object or an array of them.
struct RootVisitor<'s, 'a, 'c> {
    state: &'s mut State<'a, 'c>,
}

impl<'de> Visitor<'de> for RootVisitor<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a Nikto JSON report: a host object or an array of host objects")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        HostSeed { state: self.state }.visit_map(map)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(HostSeed { state: self.state })?.is_some() {}
        Ok(())
    }
}

/// Reads one host object and streams its vulnerabilities.
struct HostSeed<'s, 'a, 'c> {
    state: &'s mut State<'a, 'c>,
}

impl<'de> DeserializeSeed<'de> for HostSeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for HostSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a Nikto host object with \"host\", \"port\" and \"vulnerabilities\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut facts = SiteFacts::default();
        let mut seen_vulnerabilities = false;
        let mut other_keys = Vec::new();
        // Vulnerabilities that came before the host's name, held until the
        // object ends. Nikto writes the host first.
        let mut held: Vec<NiktoItem> = Vec::new();
        let mut site: Option<NiktoSite> = None;

        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "host" => facts.hostname = map.next_value::<LooseText>()?.0,
                "ip" => facts.ip = map.next_value::<LooseText>()?.0,
                "port" => facts.port = map.next_value::<LooseText>()?.0,
                "banner" => facts.banner = map.next_value::<LooseText>()?.0,
                "vulnerabilities" => {
                    seen_vulnerabilities = true;
                    if site.is_none() && (facts.hostname.is_some() || facts.ip.is_some()) {
                        site = Some(self.state.sites.declare(&facts, self.state.context, self.state.sink));
                    }
                    map.next_value_seed(VulnerabilitiesSeed {
                        state: self.state,
                        site: site.as_ref(),
                        held: &mut held,
                    })?;
                }
                _ => {
                    if other_keys.len() < 5 {
                        other_keys.push(key);
                    }
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !seen_vulnerabilities && facts.hostname.is_none() {
            return Err(de::Error::custom(format!(
                "expected a Nikto JSON report with \"host\" and \"vulnerabilities\", found an object with keys \
                 {other_keys:?}; is this another tool's report?"
            )));
        }

        let site = match site {
            Some(site) => site,
            None => self.state.sites.declare(&facts, self.state.context, self.state.sink),
        };
        for item in held {
            self.state.sink.finding(nikto_shared::finding(&site, item));
        }
        Ok(())
    }
}

/// Streams a `vulnerabilities` array: each one is sent when its site is
/// known, and held otherwise.
struct VulnerabilitiesSeed<'s, 'a, 'c, 'h> {
    state: &'s mut State<'a, 'c>,
    site: Option<&'h NiktoSite>,
    held: &'h mut Vec<NiktoItem>,
}

impl<'de> DeserializeSeed<'de> for VulnerabilitiesSeed<'_, '_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for VulnerabilitiesSeed<'_, '_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an array of vulnerabilities")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.state.limit.reset();
        while let Some(ObjectOnly(vulnerability)) = seq.next_element::<ObjectOnly<Vulnerability>>()? {
            self.state.limit.reset();
            let item = NiktoItem {
                id: vulnerability.id,
                osvdb: vulnerability.osvdb,
                method: vulnerability.method,
                uri: vulnerability.url,
                message: vulnerability.msg,
                references: vulnerability.references.into_iter().collect(),
            };
            match self.site {
                Some(site) => self.state.sink.finding(nikto_shared::finding(site, item)),
                None => self.held.push(item),
            }
        }
        Ok(())
    }
}

/// One Nikto result.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Vulnerability {
    #[serde(deserialize_with = "util::loose_text")]
    id: Option<String>,
    #[serde(rename = "OSVDB", deserialize_with = "util::loose_text")]
    osvdb: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    method: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    url: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    msg: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    references: Option<String>,
}

/// A scalar read as text, as [`util::loose_text`] reads it.
#[derive(Debug, Default)]
struct LooseText(Option<String>);

impl<'de> Deserialize<'de> for LooseText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        util::loose_text(deserializer).map(LooseText)
    }
}
