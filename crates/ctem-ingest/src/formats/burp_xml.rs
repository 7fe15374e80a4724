//! Burp Suite XML issue exports: the issues of a Burp Scanner crawl and
//! audit, as "Report selected issues" or "Export issues" writes them in
//! XML.
//!
//! # Reads
//!
//! `<issues burpVersion exportTime>` with one `<issue>` per issue at one
//! URL and insertion point, as written by Burp Suite Professional 1.6 to
//! 2024. Each issue has `serialNumber`, `type`, `name`, `host` (attribute `ip`), `path`,
//! `location`, `severity`, `confidence`, `issueBackground`,
//! `remediationBackground`, `references`, `vulnerabilityClassifications`,
//! `issueDetail`, `issueDetailItems`, `remediationDetail` and
//! `requestresponse` (`request method base64`, `response base64`). The
//! inline DTD that Burp writes is skipped. Every `burpVersion` is read,
//! since the layout has not changed between versions.
//!
//! # Field mapping
//!
//! One finding per issue (Burp reports each issue type once per URL and
//! insertion point; DefectDojo merges the issues of one type).
//!
//! | report | finding |
//! | --- | --- |
//! | `type` | `rule_id` |
//! | `name` | `title` |
//! | `severity` High, Medium, Low, Information | `severity` High, Medium, Low, Info |
//! | `severity` False positive | `severity` Info, `source_status` FalsePositive |
//! | (always) | `kind` WebWeakness |
//! | `issueDetail`, then `issueBackground`, as plain text | `description` |
//! | `remediationDetail`, then `remediationBackground` | `fix.description` |
//! | links of `references` and `vulnerabilityClassifications` | `references` |
//! | `CWE-n` in `vulnerabilityClassifications` | `cwes` |
//! | `host` and `path` | `location.url` |
//! | `method` of the first request | `location.method` |
//! | the bracket of `location` (`[username parameter]`) | `location.parameter`, `insertion_point` attribute |
//! | `issueDetailItems`, the head of the first request, the status line of its response | `evidence` (4 KiB at most) |
//! | `serialNumber`, `confidence` | `attributes` |
//!
//! Requests and responses are never kept whole: of each issue's first
//! request only the head (request line and headers) is kept, with the
//! values of `Authorization`, `Cookie` and token headers masked, and of its
//! response only the status line. Base64 (`base64="true"`) is decoded.
//!
//! # Scope target
//!
//! The origin of each issue's `host` (`scheme://host[:port]`, the default
//! port left out). The asset is a [`ctem_model::AssetKind::WebApp`] keyed by
//! the same URL, with `url`, `hostname`, `ip` and `port` identifiers. A
//! report without issues covers [`ParseContext::default_target`].
//!
//! # Fingerprint
//!
//! Tool `burp`, issue type, the web application, the URL, the method and
//! the insertion point's name, as for the Burp REST API scan result.
//!
//! # Not read yet
//!
//! Requests after the first, response headers, `responseRedirected`,
//! collaborator and infiltrator events, static and dynamic analysis.
//!
//! # Reference
//!
//! <https://portswigger.net/burp/documentation/desktop/running-scans/reporting/issue-reporting>
//! and the DTD that Burp writes at the top of each export.

use std::io::BufRead;

use quick_xml::events::BytesStart;

use super::burp_shared::{BurpIssue, BurpSites};
use super::dast_shared::{EVIDENCE_BYTES, decode_base64_prefix, first_line, http_head, request_method};
use super::dast_xml::{self, Field, XmlHandler, element_name};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "burp-xml";
/// The maximum size in bytes of one issue text kept while reading.
const FIELD_BYTES: usize = 64 * 1024;
/// The maximum size in bytes kept of a request or response while reading:
/// enough for the head that the evidence keeps, in base64.
const MESSAGE_BYTES: usize = 2 * EVIDENCE_BYTES;

/// The Burp Suite XML parser.
pub struct BurpXml;

impl Parser for BurpXml {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Burp Suite XML",
            tool: "Burp Suite Professional",
            versions: "1.6 to 2024 issue export (<issues burpVersion>)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let has = |needle: &[u8]| util::contains(head, needle);
        if has(b"<issues burpVersion") || (has(b"<issues") && has(b"<issue>") && has(b"<serialNumber>")) {
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
        let mut handler = BurpHandler {
            context,
            sink,
            sites: BurpSites::default(),
            issue: None,
            field: None,
            message: None,
        };
        dast_xml::walk(
            context,
            FORMAT_ID,
            "a Burp Suite XML export with an <issues> root element",
            reader,
            &mut handler,
        )?;
        handler.sites.finish(context, handler.sink);
        Ok(())
    }
}

/// One `<issue>` being read.
#[derive(Debug, Default)]
struct IssueState {
    issue: BurpIssue,
    /// Whether the first `<requestresponse>` was read: later ones are
    /// skipped.
    message_read: bool,
}

/// A `<request>` or `<response>` being read.
#[derive(Debug)]
struct Message {
    field: Field,
    is_request: bool,
    base64: bool,
}

/// The reader's place in the document and the issue being built.
struct BurpHandler<'a, 'c> {
    context: &'a ParseContext<'c>,
    sink: &'a mut dyn Sink,
    sites: BurpSites,
    issue: Option<IssueState>,
    /// A text child of `<issue>` being read.
    field: Option<Field>,
    message: Option<Message>,
}

impl XmlHandler for BurpHandler<'_, '_> {
    fn root(&mut self, element: &BytesStart<'_>) -> Result<(), String> {
        let name = element_name(element);
        if name == "issues" {
            return Ok(());
        }
        Err(format!(
            "not a Burp Suite XML export: expected the root element <issues>, found <{name}>"
        ))
    }

    fn start(&mut self, element: &BytesStart<'_>, depth: usize) -> Result<(), String> {
        if self.field.is_some() || self.message.is_some() {
            return Ok(());
        }
        let name = element_name(element);
        let Some(state) = &mut self.issue else {
            if depth == 1 && name == "issue" {
                self.issue = Some(IssueState::default());
            }
            return Ok(());
        };

        match (depth, name.as_str()) {
            (2, "host") => {
                state.issue.ip = util::xml_attribute(element, "ip");
                self.field = Some(Field::new(&name, depth));
            }
            (2, "requestresponse" | "issueDetailItems") => {}
            (2, _) => self.field = Some(Field::new(&name, depth)),
            (3, "issueDetailItem") => self.field = Some(Field::new(&name, depth)),
            (3, "request" | "response") if !state.message_read => {
                let is_request = name == "request";
                if is_request && state.issue.method.is_none() {
                    state.issue.method = util::xml_attribute(element, "method").and_then(|m| util::non_empty(Some(&m)));
                }
                self.message = Some(Message {
                    field: Field::new(&name, depth),
                    is_request,
                    base64: util::xml_attribute(element, "base64").is_some_and(|b| b.trim() == "true"),
                });
            }
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, name: &[u8], depth: usize) {
        if let Some(field) = self.field.take_if(|field| field.depth == depth) {
            if let Some(state) = &mut self.issue {
                store_field(&mut state.issue, field);
            }
            return;
        }
        if let Some(message) = self.message.take_if(|message| message.field.depth == depth) {
            if let Some(state) = &mut self.issue {
                store_message(&mut state.issue, message);
            }
            return;
        }
        if depth == 2 && name == b"requestresponse" {
            if let Some(state) = &mut self.issue {
                state.message_read = true;
            }
            return;
        }
        if depth == 1
            && name == b"issue"
            && let Some(state) = self.issue.take()
        {
            self.sites.send(state.issue, self.context, self.sink);
        }
    }

    fn capturing(&self) -> bool {
        self.field.is_some() || self.message.is_some()
    }

    fn text(&mut self, text: &str) {
        if let Some(message) = &mut self.message {
            message.field.push(text, MESSAGE_BYTES);
        } else if let Some(field) = &mut self.field {
            field.push(text, FIELD_BYTES);
        }
    }
}

/// Stores a text child of `<issue>`.
fn store_field(issue: &mut BurpIssue, field: Field) {
    let text = Some(field.text);
    match field.name.as_str() {
        "serialNumber" => issue.serial_number = text,
        "type" => issue.type_id = text,
        "name" => issue.name = text,
        "host" => issue.origin = text,
        "path" => issue.path = text,
        "location" => issue.location = text,
        "severity" => issue.severity = text,
        "confidence" => issue.confidence = text,
        "issueBackground" => issue.issue_background = text,
        "remediationBackground" => issue.remediation_background = text,
        "issueDetail" => issue.issue_detail = text,
        "remediationDetail" => issue.remediation_detail = text,
        "references" => issue.references = text,
        "vulnerabilityClassifications" => issue.vulnerability_classifications = text,
        "issueDetailItem" => issue.detail_items.extend(text),
        _ => {}
    }
}

/// Keeps the head of the first request and the status line of the first
/// response.
fn store_message(issue: &mut BurpIssue, message: Message) {
    let bytes = if message.base64 {
        decode_base64_prefix(&message.field.text, EVIDENCE_BYTES)
    } else {
        message.field.text.into_bytes()
    };
    if message.is_request {
        if issue.method.is_none() {
            issue.method = request_method(&bytes);
        }
        issue.request_head = Some(http_head(&bytes, EVIDENCE_BYTES)).filter(|head| !head.is_empty());
    } else {
        issue.response_status = first_line(&bytes);
    }
}
