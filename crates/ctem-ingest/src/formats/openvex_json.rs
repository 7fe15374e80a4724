//! OpenVEX documents: what a supplier states about vulnerabilities in its
//! products (not affected and why, affected, fixed, under investigation).
//!
//! # Reads
//!
//! OpenVEX JSON 0.0.1 and 0.2.0, as vexctl, go-vex and Trivy write them:
//! `@context` (`https://openvex.dev/ns`, `.../ns/v0.0.1` or
//! `.../ns/v0.2.0`), `@id`, `author`, `timestamp`, `last_updated` and
//! `statements`. A statement's `vulnerability` is a string (0.0.1) or
//! `{name, @id, aliases}` (0.2.0); its `products` are strings (0.0.1) or
//! `{@id, identifiers: {purl, cpe23, cpe22}, subcomponents}` (0.2.0). A
//! document whose `@context` is not OpenVEX, or names another version, is
//! rejected with the value found.
//!
//! # Field mapping
//!
//! One [`VexStatement`] per statement, sent with [`Sink::vex`]:
//!
//! | document | statement |
//! | --- | --- |
//! | `vulnerability.name` (or the last segment of its `@id`), or the string | `vulnerability` |
//! | `vulnerability.aliases` | `aliases` |
//! | `products[]`: `identifiers.purl`, else `@id` as a purl, else `identifiers.cpe23` or `cpe22`, else `@id` as a reference | `products[].id` |
//! | `products[].subcomponents[]` (the same way) | `products[].subcomponents` |
//! | `status` | `status` |
//! | `justification`, `impact_statement`, `action_statement`, `status_notes` | the same fields |
//! | the statement's `last_updated`, else its `timestamp`, else the document's `last_updated`, else its `timestamp` | `timestamp` |
//! | `@id`, `author`, the file path | `source` |
//!
//! A statement without a valid vulnerability id, without products, with a
//! status OpenVEX does not define, or with a timestamp that is not RFC 3339
//! makes the whole document fail with the statement's number: a VEX
//! document changes the status of findings, so a part of it that cannot be
//! read is an error rather than a statement left out.
//!
//! # Scope target
//!
//! None. A VEX document is no scan: it declares no scope and so closes no
//! finding. Its statements change the status of the findings of the other
//! reports of a run.
//!
//! # Fingerprint
//!
//! None: a VEX document gives statements, not findings. The findings that a
//! statement matches keep their own fingerprint.
//!
//! # Not read yet
//!
//! `role`, `tooling`, `version`, statement `supplier`, `@id` and
//! `action_statement_timestamp`, product `hashes`, and the vulnerability
//! `description`.
//!
//! # Memory
//!
//! Statements stream once `@context`, `@id`, `author` and `timestamp` are
//! read, which is the order that go-vex writes. A document that has
//! statements before one of these (or lacks one) keeps them until it ends,
//! so the document's fields apply to every statement.
//!
//! # Reference
//!
//! <https://github.com/openvex/spec/blob/main/OPENVEX-SPEC.md>

use std::fmt;
use std::io::BufRead;

use ctem_model::{ProductId, VexProduct, VexSource, VexStatement, VexStatus, VulnerabilityId};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::formats::vex_shared;
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "openvex-json";
const CONTEXT_PREFIX: &str = "https://openvex.dev/ns";

/// The OpenVEX parser.
pub struct OpenVexJson;

impl Parser for OpenVexJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "OpenVEX JSON",
            tool: "any OpenVEX producer (vexctl, go-vex, Trivy, Chainguard...)",
            versions: "OpenVEX 0.0.1 and 0.2.0",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if head.starts_with(b"{") && util::contains(head, b"\"@context\"") && util::contains(head, b"openvex.dev/ns") {
            return Detection::Certain;
        }
        Detection::No
    }

    fn parse(
        &self,
        context: &ParseContext<'_>,
        reader: &mut dyn BufRead,
        sink: &mut dyn Sink,
    ) -> Result<(), ParseError> {
        let mut state = State {
            path: context.path,
            sink,
            document: Document::default(),
            count: 0,
        };
        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        deserializer
            .deserialize_map(RootVisitor { state: &mut state })
            .and_then(|()| deserializer.end())
            .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))
    }
}

/// The document-level fields that every statement takes.
#[derive(Debug, Default)]
struct Document {
    context: Option<String>,
    id: Option<String>,
    author: Option<String>,
    timestamp: Option<String>,
    last_updated: Option<String>,
}

struct State<'a> {
    path: &'a str,
    sink: &'a mut dyn Sink,
    document: Document,
    /// Statements read so far, to number them in messages.
    count: usize,
}

impl State<'_> {
    /// Whether the fields that statements take have all been read, so that
    /// statements can be sent as they are read.
    fn ready(&self) -> bool {
        let document = &self.document;
        document.context.is_some() && document.id.is_some() && document.author.is_some() && document.timestamp.is_some()
    }

    fn source(&self) -> VexSource {
        let mut source = VexSource::new(FORMAT_ID, self.path);
        source.document_id = self.document.id.clone();
        source.author = self.document.author.clone();
        source
    }

    /// Builds the statement with the given number (counted from 1) and
    /// sends it.
    fn emit(&mut self, number: usize, raw: RawStatement) -> Result<(), String> {
        let statement = self
            .statement(raw)
            .map_err(|reason| format!("statement {number}: {reason}"))?;
        self.sink.vex(statement);
        Ok(())
    }

    fn statement(&self, raw: RawStatement) -> Result<VexStatement, String> {
        let vulnerability = raw.vulnerability.as_ref().ok_or("missing \"vulnerability\"")?;
        let (id, aliases) = vulnerability.ids()?;

        let status_text = util::non_empty(raw.status.as_deref())
            .ok_or("missing \"status\": expected not_affected, affected, fixed or under_investigation")?;
        let status: VexStatus = status_text.parse().map_err(|error| format!("{error}"))?;

        let mut products = Vec::with_capacity(raw.products.len());
        for (index, product) in raw.products.iter().enumerate() {
            products.push(
                product
                    .to_product()
                    .map_err(|reason| format!("product {}: {reason}", index + 1))?,
            );
        }

        let mut statement =
            VexStatement::new(id, status, products, self.source()).map_err(|error| error.to_string())?;
        for alias in aliases {
            statement = statement.with_alias(alias);
        }
        let texts = [
            (
                raw.justification.as_deref(),
                VexStatement::with_justification as fn(VexStatement, &str) -> VexStatement,
            ),
            (raw.impact_statement.as_deref(), VexStatement::with_impact_statement),
            (raw.action_statement.as_deref(), VexStatement::with_action_statement),
            (raw.status_notes.as_deref(), VexStatement::with_status_notes),
        ];
        for (text, set) in texts {
            if let Some(text) = text {
                statement = set(statement, text);
            }
        }

        let timestamp = [
            &raw.last_updated,
            &raw.timestamp,
            &self.document.last_updated,
            &self.document.timestamp,
        ]
        .into_iter()
        .find_map(|t| util::non_empty(t.as_deref()));
        if let Some(timestamp) = timestamp {
            statement = statement
                .with_timestamp(&timestamp)
                .map_err(|error| error.to_string())?;
        }
        Ok(statement)
    }
}

/// Reads the root object, checking `@context` first.
struct RootVisitor<'s, 'a> {
    state: &'s mut State<'a>,
}

impl<'de> Visitor<'de> for RootVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an OpenVEX document (a JSON object with \"@context\" and \"statements\")")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut held: Vec<RawStatement> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let text = |map: &mut A| map.next_value_seed(LooseTextSeed);
            match key.as_str() {
                "@context" => {
                    let value = text(&mut map)?.unwrap_or_default();
                    check_context(&value).map_err(de::Error::custom)?;
                    self.state.document.context = Some(value);
                }
                "@id" => self.state.document.id = util::non_empty(text(&mut map)?.as_deref()),
                "author" => self.state.document.author = util::non_empty(text(&mut map)?.as_deref()),
                "timestamp" => self.state.document.timestamp = util::non_empty(text(&mut map)?.as_deref()),
                "last_updated" => self.state.document.last_updated = util::non_empty(text(&mut map)?.as_deref()),
                "statements" => map.next_value_seed(StatementsSeed {
                    state: self.state,
                    held: &mut held,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        if self.state.document.context.is_none() {
            return Err(de::Error::custom(format!(
                "missing \"@context\": expected an OpenVEX document with \"@context\": \"{CONTEXT_PREFIX}/v0.2.0\""
            )));
        }
        let first = self.state.count - held.len();
        for (offset, raw) in held.into_iter().enumerate() {
            self.state.emit(first + offset + 1, raw).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

/// Accepts the OpenVEX contexts of the versions this parser reads.
fn check_context(value: &str) -> Result<(), String> {
    let value = value.trim().trim_end_matches('/');
    let Some(rest) = value.strip_prefix(CONTEXT_PREFIX) else {
        return Err(format!(
            "unsupported @context {value:?}: expected an OpenVEX context such as \"{CONTEXT_PREFIX}/v0.2.0\""
        ));
    };
    match rest {
        "" | "/v0.0.1" | "/v0.2.0" => Ok(()),
        other => Err(format!(
            "OpenVEX version {:?} is not supported: this parser reads OpenVEX 0.0.1 and 0.2.0",
            other.trim_start_matches('/')
        )),
    }
}

/// Reads a scalar as text through [`util::loose_text`].
struct LooseTextSeed;

impl<'de> DeserializeSeed<'de> for LooseTextSeed {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<String>, D::Error> {
        util::loose_text(deserializer)
    }
}

/// Streams the `statements` array.
struct StatementsSeed<'s, 'a, 'h> {
    state: &'s mut State<'a>,
    held: &'h mut Vec<RawStatement>,
}

impl<'de> DeserializeSeed<'de> for StatementsSeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for StatementsSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an array of statements")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<RawStatement>()? {
            self.state.count += 1;
            if self.state.ready() && self.held.is_empty() {
                let number = self.state.count;
                self.state.emit(number, raw).map_err(de::Error::custom)?;
            } else {
                self.held.push(raw);
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// The lean shapes of a statement.
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawStatement {
    vulnerability: Option<RawVulnerability>,
    products: Vec<RawProduct>,
    #[serde(deserialize_with = "util::loose_text")]
    status: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    justification: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    impact_statement: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    action_statement: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    status_notes: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    timestamp: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    last_updated: Option<String>,
}

/// A statement's vulnerability: a string in 0.0.1, an object in 0.2.0.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawVulnerability {
    Name(String),
    Object {
        #[serde(default, deserialize_with = "util::loose_text")]
        name: Option<String>,
        #[serde(default, rename = "@id", deserialize_with = "util::loose_text")]
        id: Option<String>,
        #[serde(default)]
        aliases: Vec<serde_json::Value>,
    },
    Other(IgnoredAny),
}

impl RawVulnerability {
    /// Returns the vulnerability id and its valid aliases.
    fn ids(&self) -> Result<(VulnerabilityId, Vec<VulnerabilityId>), String> {
        match self {
            RawVulnerability::Name(name) => Ok((parse_id(name)?, Vec::new())),
            RawVulnerability::Object { name, id, aliases } => {
                // An IRI such as https://nvd.nist.gov/vuln/detail/CVE-2023-1255 ends with the id.
                let text = util::non_empty(name.as_deref())
                    .or_else(|| util::non_empty(id.as_deref()?.rsplit('/').next()))
                    .ok_or("the vulnerability has no \"name\"")?;
                let aliases = aliases
                    .iter()
                    .filter_map(|alias| alias.as_str()?.parse().ok())
                    .collect();
                Ok((parse_id(&text)?, aliases))
            }
            RawVulnerability::Other(_) => Err("\"vulnerability\" is neither a string nor an object".to_string()),
        }
    }
}

fn parse_id(text: &str) -> Result<VulnerabilityId, String> {
    text.parse().map_err(|error| format!("{error}"))
}

/// A product or subcomponent: a string in 0.0.1, an object in 0.2.0.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawProduct {
    Id(String),
    Object {
        #[serde(default, rename = "@id", deserialize_with = "util::loose_text")]
        id: Option<String>,
        #[serde(default)]
        identifiers: Identifiers,
        #[serde(default)]
        subcomponents: Vec<RawComponent>,
    },
    Other(IgnoredAny),
}

/// A subcomponent, which OpenVEX does not nest further.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawComponent {
    Id(String),
    Object {
        #[serde(default, rename = "@id", deserialize_with = "util::loose_text")]
        id: Option<String>,
        #[serde(default)]
        identifiers: Identifiers,
    },
    Other(IgnoredAny),
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Identifiers {
    #[serde(deserialize_with = "util::loose_text")]
    purl: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    cpe23: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    cpe22: Option<String>,
}

impl RawProduct {
    fn to_product(&self) -> Result<VexProduct, String> {
        match self {
            RawProduct::Id(text) => Ok(VexProduct::new(component_id(Some(text), &Identifiers::default())?)),
            RawProduct::Object {
                id,
                identifiers,
                subcomponents,
            } => {
                let mut product = VexProduct::new(component_id(id.as_ref(), identifiers)?);
                for (index, subcomponent) in subcomponents.iter().enumerate() {
                    let id = match subcomponent {
                        RawComponent::Id(text) => component_id(Some(text), &Identifiers::default()),
                        RawComponent::Object { id, identifiers } => component_id(id.as_ref(), identifiers),
                        RawComponent::Other(_) => Err("neither a string nor an object".to_string()),
                    };
                    product
                        .subcomponents
                        .push(id.map_err(|reason| format!("subcomponent {}: {reason}", index + 1))?);
                }
                Ok(product)
            }
            RawProduct::Other(_) => Err("neither a string nor an object".to_string()),
        }
    }
}

/// Picks the identifier of a product or subcomponent: a purl first, then a
/// CPE, then the `@id` as a reference.
fn component_id(id: Option<&String>, identifiers: &Identifiers) -> Result<ProductId, String> {
    let candidates = [
        identifiers.purl.as_deref(),
        id.map(String::as_str),
        identifiers.cpe23.as_deref(),
        identifiers.cpe22.as_deref(),
    ];
    let parsed: Vec<ProductId> = candidates
        .into_iter()
        .flatten()
        .filter_map(vex_shared::product_id)
        .collect();
    let resolved = parsed
        .iter()
        .find(|p| matches!(p, ProductId::Purl { .. }))
        .or_else(|| parsed.iter().find(|p| matches!(p, ProductId::Cpe { .. })))
        .or_else(|| parsed.first());
    resolved
        .cloned()
        .ok_or_else(|| "no \"@id\" and no identifiers: expected a purl, a CPE or an IRI".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_by_version() {
        assert!(check_context("https://openvex.dev/ns").is_ok());
        assert!(check_context("https://openvex.dev/ns/v0.0.1").is_ok());
        assert!(check_context("https://openvex.dev/ns/v0.2.0/").is_ok());
        let error = check_context("https://openvex.dev/ns/v0.9.0").unwrap_err();
        assert!(error.contains("v0.9.0") && error.contains("not supported"), "{error}");
        let error = check_context("https://schema.org").unwrap_err();
        assert!(error.contains("schema.org"), "{error}");
    }

    #[test]
    fn component_prefers_purl() {
        let identifiers = Identifiers {
            purl: Some("pkg:apk/wolfi/git@2.39.0".into()),
            cpe23: Some("cpe:2.3:a:git:git:2.39.0:*:*:*:*:*:*:*".into()),
            cpe22: None,
        };
        let id = component_id(Some(&"https://example.com/git".to_string()), &identifiers).unwrap();
        assert!(matches!(id, ProductId::Purl { .. }), "{id:?}");

        let cpe_only = Identifiers {
            cpe23: identifiers.cpe23.clone(),
            ..Identifiers::default()
        };
        let id = component_id(Some(&"https://example.com/git".to_string()), &cpe_only).unwrap();
        assert!(matches!(id, ProductId::Cpe { .. }), "{id:?}");

        let id = component_id(Some(&"https://example.com/git".to_string()), &Identifiers::default()).unwrap();
        assert!(matches!(id, ProductId::Reference { .. }), "{id:?}");
        assert!(component_id(None, &Identifiers::default()).is_err());
    }
}
