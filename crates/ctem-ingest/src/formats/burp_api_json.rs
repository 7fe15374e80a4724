//! Burp Suite REST API scan results: the JSON that `GET /v0.1/scan/{id}`
//! of Burp Suite Professional's REST API returns.
//!
//! # Reads
//!
//! The scan result object of REST API v0.1 (Burp Suite Professional 2.0
//! to 2024): `task_id`, `scan_status`, `scan_metrics`, `message` and
//! `issue_events`. Each event of type `issue_found` has an `issue` with
//! `name`, `type_index`, `serial_number`, `origin`, `path`, `caption`,
//! `severity` (`info`, `low`, `medium`, `high`), `confidence` (`certain`,
//! `firm`, `tentative`), `description`, `remediation`, `issue_background`,
//! `remediation_background`, `internal_data` and `evidence` (each with
//! `request_response` {`url`, `request`, `response`} whose segments carry
//! base64 `data`, and `information_items`). Events of other types are
//! skipped.
//!
//! # Field mapping
//!
//! The same as the Burp Suite XML export (`burp-xml`), one finding per
//! issue:
//!
//! | report | finding |
//! | --- | --- |
//! | `type_index` | `rule_id` |
//! | `name` | `title` |
//! | `severity` | `severity` (`false_positive` also sets `source_status` FalsePositive) |
//! | (always) | `kind` WebWeakness |
//! | `description`, then `issue_background`, as plain text | `description` |
//! | `remediation`, then `remediation_background` | `fix.description` |
//! | links and `CWE-n` of `references` and `vulnerability_classifications` | `references`, `cwes` |
//! | `origin` and `path` | `location.url` |
//! | the method of the first evidence request | `location.method` |
//! | the bracket of `caption` (`/p/ [q parameter]`) | `location.parameter`, `insertion_point` attribute |
//! | `information_items`, the first request's head, its response's status line | `evidence` (4 KiB at most) |
//! | `serial_number`, `confidence` | `attributes` |
//!
//! Requests and responses are never kept whole: only the head of the first
//! request (credentials masked) and the status line of its response.
//!
//! # Scope target
//!
//! The `origin` of each issue. The asset is a
//! [`ctem_model::AssetKind::WebApp`] keyed by the origin with its default
//! port left out. A result without issues covers
//! [`ParseContext::default_target`].
//!
//! # Fingerprint
//!
//! Tool `burp`, `type_index`, the web application, the URL, the method and
//! the insertion point's name, as for the Burp XML export.
//!
//! # Not read yet
//!
//! `scan_status` and `scan_metrics`, `internal_data`, and evidence after
//! the first.
//!
//! NOTE: a result fetched while the scan still runs (`scan_status`
//! `crawling` or `auditing`) lists only the issues found so far. Its
//! origins are still declared as covered scopes, so the issues that the
//! scan had not reached yet would count as fixed.
//!
//! # Reference
//!
//! <https://portswigger.net/burp/documentation/desktop/settings/suite/rest-api>
//! (the API's own documentation is served by Burp at `/v0.1/`).

use std::fmt;
use std::io::BufRead;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::burp_shared::{BurpIssue, BurpSites};
use super::dast_shared::{
    EVIDENCE_BYTES, LimitedReader, MAX_RECORD_BYTES, ObjectOnly, RecordLimit, decode_base64_prefix, first_line,
    http_head, request_method, truncate_at_char,
};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Position, Sink, util};

const FORMAT_ID: &str = "burp-api-json";
/// The maximum length of one base64 segment kept while reading: enough
/// for the head that the evidence keeps.
const SEGMENT_CHARS: usize = 2 * EVIDENCE_BYTES;

/// The Burp REST API scan result parser.
pub struct BurpApiJson;

impl Parser for BurpApiJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Burp Suite REST API scan result",
            tool: "Burp Suite Professional",
            versions: "REST API v0.1 (GET /v0.1/scan/{task_id})",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if !head.starts_with(b"{") {
            return Detection::No;
        }
        let has = |needle: &[u8]| util::contains(head, needle);
        if has(b"\"issue_events\"") && (has(b"\"scan_status\"") || has(b"\"scan_metrics\"") || has(b"\"task_id\"")) {
            return Detection::Certain;
        }
        if has(b"\"issue_events\"") {
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
            sites: BurpSites::default(),
            limit: limit.clone(),
        };
        deserializer
            .deserialize_map(RootVisitor { state: &mut state })
            .and_then(|()| deserializer.end())
            .map_err(|error| json_error(context, &limit, &error))?;
        state.sites.finish(context, state.sink);
        Ok(())
    }
}

/// Turns a serde error into a parse error, naming the record limit where
/// it was the cause.
fn json_error(context: &ParseContext<'_>, limit: &RecordLimit, error: &serde_json::Error) -> ParseError {
    if limit.exceeded() {
        let position = Position::LineColumn {
            line: error.line() as u64,
            column: error.column() as u64,
        };
        return ParseError::new(
            context.path,
            FORMAT_ID,
            Some(position),
            format!(
                "one issue event is longer than {} MiB; the file is corrupt or not a Burp scan result",
                limit.max_mib()
            ),
        );
    }
    ParseError::from_json(context.path, FORMAT_ID, error)
}

/// State of one report's parse.
struct State<'a, 'c> {
    context: &'a ParseContext<'c>,
    sink: &'a mut dyn Sink,
    sites: BurpSites,
    limit: RecordLimit,
}

/// Reads the root object and streams `issue_events`.
struct RootVisitor<'s, 'a, 'c> {
    state: &'s mut State<'a, 'c>,
}

impl<'de> Visitor<'de> for RootVisitor<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a Burp REST API scan result: an object with an \"issue_events\" array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen_events = false;
        let mut other_keys = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "issue_events" {
                seen_events = true;
                map.next_value_seed(EventsSeed { state: self.state })?;
            } else {
                if other_keys.len() < 5 {
                    other_keys.push(key);
                }
                map.next_value::<IgnoredAny>()?;
            }
        }
        if !seen_events {
            return Err(de::Error::custom(format!(
                "expected a Burp REST API scan result with an \"issue_events\" array, found an object with keys \
                 {other_keys:?}; is this another tool's report?"
            )));
        }
        Ok(())
    }
}

/// Streams the `issue_events` array, one event at a time.
struct EventsSeed<'s, 'a, 'c> {
    state: &'s mut State<'a, 'c>,
}

impl<'de> DeserializeSeed<'de> for EventsSeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for EventsSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an array of issue events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.state.limit.reset();
        while let Some(ObjectOnly(event)) = seq.next_element::<ObjectOnly<Event>>()? {
            self.state.limit.reset();
            let is_issue = event.kind.as_deref().is_none_or(|kind| kind == "issue_found");
            if let Some(issue) = event.issue.filter(|_| is_issue) {
                let issue = burp_issue(issue);
                self.state.sites.send(issue, self.state.context, self.state.sink);
            }
        }
        Ok(())
    }
}

/// One issue event.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Event {
    #[serde(rename = "type", deserialize_with = "util::loose_text")]
    kind: Option<String>,
    issue: Option<Issue>,
}

/// One issue of the scan result.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Issue {
    #[serde(deserialize_with = "util::loose_text")]
    name: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    type_index: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    serial_number: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    origin: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    path: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    caption: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    severity: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    confidence: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    description: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    remediation: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    issue_background: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    remediation_background: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    references: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    vulnerability_classifications: Option<String>,
    evidence: Vec<Evidence>,
}

/// One piece of evidence of an issue.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Evidence {
    information_items: Vec<LooseText>,
    request_response: Option<RequestResponse>,
}

/// One request and its response, as segments of base64 data.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RequestResponse {
    request: Vec<Segment>,
    response: Vec<Segment>,
}

/// A part of a message: `DataSegment`, `HighlightSegment` (the part Burp
/// marks) or `SnipSegment` (a part Burp left out).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Segment {
    #[serde(rename = "type", deserialize_with = "util::loose_text")]
    kind: Option<String>,
    /// The start of the base64 data: bodies are never needed whole.
    data: BoundedText,
}

/// A string of which at most [`SEGMENT_CHARS`] bytes are kept.
#[derive(Debug, Default)]
struct BoundedText(String);

impl<'de> Deserialize<'de> for BoundedText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Prefix;

        impl<'de> Visitor<'de> for Prefix {
            type Value = BoundedText;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a base64 string")
            }

            // Only the kept prefix is copied out of the deserializer's buffer.
            fn visit_str<E: de::Error>(self, value: &str) -> Result<BoundedText, E> {
                Ok(BoundedText(truncate_at_char(value, SEGMENT_CHARS).to_string()))
            }

            fn visit_unit<E: de::Error>(self) -> Result<BoundedText, E> {
                Ok(BoundedText::default())
            }
        }

        deserializer.deserialize_any(Prefix)
    }
}

/// A scalar read as text, as [`util::loose_text`] reads it.
#[derive(Debug, Default)]
struct LooseText(Option<String>);

impl<'de> Deserialize<'de> for LooseText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        util::loose_text(deserializer).map(LooseText)
    }
}

/// Converts an issue into the shape both Burp formats share.
fn burp_issue(issue: Issue) -> BurpIssue {
    let mut burp = BurpIssue {
        serial_number: issue.serial_number,
        type_id: issue.type_index,
        name: issue.name,
        origin: issue.origin,
        ip: None,
        path: issue.path,
        location: issue.caption,
        severity: issue.severity,
        confidence: issue.confidence,
        issue_background: issue.issue_background,
        remediation_background: issue.remediation_background,
        issue_detail: issue.description,
        remediation_detail: issue.remediation,
        references: issue.references,
        vulnerability_classifications: issue.vulnerability_classifications,
        ..BurpIssue::default()
    };

    for evidence in &issue.evidence {
        burp.detail_items
            .extend(evidence.information_items.iter().filter_map(|item| item.0.clone()));
    }
    let first = issue
        .evidence
        .iter()
        .find_map(|evidence| evidence.request_response.as_ref());
    if let Some(exchange) = first {
        let request = message_bytes(&exchange.request);
        burp.method = request_method(&request);
        burp.request_head = Some(http_head(&request, EVIDENCE_BYTES)).filter(|head| !head.is_empty());
        burp.response_status = first_line(&message_bytes(&exchange.response));
    }
    burp
}

/// Decodes a message's segments in order, up to [`EVIDENCE_BYTES`]; a
/// snipped part is marked `[...]`.
fn message_bytes(segments: &[Segment]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for segment in segments {
        if bytes.len() >= EVIDENCE_BYTES {
            break;
        }
        if segment.kind.as_deref() == Some("SnipSegment") {
            bytes.extend_from_slice(b"[...]");
            continue;
        }
        let room = EVIDENCE_BYTES - bytes.len();
        bytes.extend(decode_base64_prefix(&segment.data.0, room));
    }
    bytes
}
