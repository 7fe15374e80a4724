//! CycloneDX XML documents: software bills of materials and the
//! vulnerabilities that scanners (Grype, Dependency-Track, OWASP
//! Dependency-Check, jake) report in them.
//!
//! # Reads
//!
//! CycloneDX XML 1.0 to 1.7 (root `<bom>` in the namespace
//! `http://cyclonedx.org/schema/bom/1.x`): `metadata/tools` (`<tool>` up to
//! 1.4, `<components>` and `<services>` from 1.5), `metadata/component`,
//! `components` (nested ones too) and the vulnerabilities in both forms:
//! `<vulnerabilities>` of CycloneDX 1.4 and later, and the vulnerability
//! extension 1.0 (`http://cyclonedx.org/schema/ext/vulnerability/1.0`,
//! `<v:vulnerabilities>` inside a component or at the root) that Grype and
//! jake wrote for CycloneDX 1.0 to 1.3. Elements are matched by local name,
//! so any namespace prefix works. A root other than `<bom>`, or a bom
//! namespace of another version, is rejected with the value found.
//!
//! # Field mapping
//!
//! The same as the CycloneDX JSON parser (`cyclonedx-json`), so that the
//! two forms of one document give the same records:
//!
//! - The subject asset is `metadata/component`: `container` is a
//!   `ContainerImage`, `application` a `Repository`, `library` and
//!   `framework` a `Component`, other types `Other`. Each `component` is a
//!   `Component` asset keyed by its purl (else `name@version`), which its
//!   parent (the subject, or the component that nests it) `Contains`.
//! - One finding per vulnerability and `affects/target/ref`, resolved to a
//!   component through `bom-ref` (or the purl of a component without one).
//!   An extension vulnerability inside a component affects that component;
//!   one at the root names it with its `ref` attribute. A vulnerability
//!   without an affected component gives one finding on the subject.
//!
//! | document | finding |
//! | --- | --- |
//! | first tool name (CycloneDX's own generators and no tools: `cyclonedx`) | `tool` |
//! | `id` | `rule_id`, `vulnerability_ids` |
//! | `references/reference/id` | `vulnerability_ids` |
//! | `id` and the component's name and version | `title` (`CVE-2021-44228 in log4j-core 2.13.2`) |
//! | highest `rating/severity`, else the highest CVSS vector or score (`score`, or `score/base` in the extension) | `severity` |
//! | `rating/vector` by `method` (`CVSSv2`, `CVSSv3`, `CVSSv31`, `CVSSv4`; prefix added when missing) | `cvss` |
//! | `cwes/cwe` | `cwes` |
//! | `description`, `detail` | `description` |
//! | `recommendation` (`recommendations/recommendation` in the extension); `affects` versions with status `unaffected` | `fix.description`; `fix.fixed_versions` |
//! | `source/url`, `references/reference/source/url`, `advisories/advisory` (its `url`, or its text in the extension) | `references` |
//! | `analysis/state` | `source_status` |
//! | `analysis/justification`, `analysis/responses/response`, `analysis/detail`, the source name | `attributes` |
//!
//! - VEX: an analysed vulnerability whose `affects/target/ref` names no
//!   component of the document (the subject by its `bom-ref`, a BOM-link,
//!   a purl) gives one `VexStatement` about those products instead of
//!   findings, built as the JSON parser does. Its source is the file, the
//!   `serialNumber` attribute of `<bom>` and the supplier, manufacturer or
//!   first author of `metadata`.
//!
//! # Scope target
//!
//! The subject's `group/name` (or `name`), without its version; without a
//! `metadata/component` (CycloneDX 1.0 and 1.1 have no metadata),
//! [`ParseContext::default_target`]. A VEX document (VEX statements only:
//! no findings and no components) declares no scope and sends no subject
//! asset, because it is no scan and must close no finding.
//!
//! # Fingerprint
//!
//! Tool, vulnerability id, the subject asset, and the component's purl (or
//! name and version). No path or line.
//!
//! # Not read yet
//!
//! `dependencies`, `services`, `compositions`, `formulation`, licenses,
//! hashes, `metadata/component/components`, vulnerability `tools`,
//! `credits` and `proofOfConcept`.
//!
//! # Memory and limits
//!
//! Components and vulnerabilities stream. The parser keeps a map from
//! `bom-ref` to each component's name, version and purl, which `affects`
//! needs, and keeps vulnerabilities that come before the components until
//! the components are read. Text of one element is kept up to 256 KiB, and
//! elements nest at most 256 deep.
//!
//! # Reference
//!
//! <https://cyclonedx.org/docs/1.6/xml/> and the vulnerability extension
//! schema <https://cyclonedx.org/schema/ext/vulnerability-1.0.xsd>.

use std::collections::{BTreeSet, HashMap};
use std::io::BufRead;

use ctem_model::{
    Asset, AssetKey, AssetKind, Component, Finding, FindingKind, Purl, Relationship, RelationshipKind, Severity,
    SourceStatus, VexProduct, VexSource, VexStatement,
};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::formats::vex_shared::{self, AffectedVersion as VexVersion, CycloneDxAnalysis, CycloneDxSubject};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Position, Sink, util};

const FORMAT_ID: &str = "cyclonedx-xml";
const DEFAULT_TOOL: &str = "cyclonedx";
const BOM_NAMESPACE: &str = "http://cyclonedx.org/schema/bom/";
/// The maximum size in bytes of the text of one element that is kept.
const TEXT_BYTES: usize = 256 * 1024;
/// The maximum depth of nested elements.
const MAX_DEPTH: usize = 256;

/// The CycloneDX XML parser.
pub struct CycloneDxXml;

impl Parser for CycloneDxXml {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "CycloneDX XML",
            tool: "any CycloneDX producer (Grype, Dependency-Track, cyclonedx plugins, jake...)",
            versions: "CycloneDX 1.0 to 1.7, and the vulnerability extension 1.0",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        // The root is `<bom>`, or `<prefix:bom>` with a prefixed namespace.
        let root = util::contains(head, b"<bom") || util::contains(head, b":bom ");
        if root && util::contains(head, BOM_NAMESPACE.as_bytes()) {
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
        let mut reader = Reader::from_reader(reader);
        let mut state = State::new(context, sink);
        let mut buffer = Vec::new();
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
                    state.open(&element).map_err(fail)?;
                }
                Event::Empty(element) => {
                    if !root_seen {
                        check_root(&element).map_err(fail)?;
                        root_seen = true;
                    }
                    state.open(&element).map_err(fail)?;
                    state.close();
                }
                Event::End(_) => state.close(),
                Event::Text(text) => {
                    let text = text.decode().map_err(|error| fail(format!("invalid text: {error}")))?;
                    state.text(&text);
                }
                Event::CData(data) => {
                    let data = data.decode().map_err(|error| fail(format!("invalid CDATA: {error}")))?;
                    state.text(&data);
                }
                Event::GeneralRef(reference) => {
                    let name = reference
                        .decode()
                        .map_err(|error| fail(format!("invalid reference: {error}")))?;
                    state.text(&util::xml_reference(&name));
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
                "no XML element found: expected a CycloneDX XML document with a <bom> root element",
            ));
        }
        if !state.stack.is_empty() {
            return Err(at_end("the file ends inside an open element, it may be truncated"));
        }
        state.finish();
        Ok(())
    }
}

/// Checks the root element: `<bom>` in a CycloneDX 1.0 to 1.7 namespace.
fn check_root(element: &BytesStart<'_>) -> Result<(), String> {
    let name = String::from_utf8_lossy(element.local_name().as_ref()).into_owned();
    if name != "bom" {
        return Err(format!(
            "not a CycloneDX XML document: expected the root element <bom>, found <{name}>"
        ));
    }
    let namespaces: Vec<String> = element
        .attributes()
        .with_checks(false)
        .flatten()
        .filter(|a| a.key.as_ref() == b"xmlns" || a.key.as_ref().starts_with(b"xmlns:"))
        .map(|a| String::from_utf8_lossy(&a.value).trim().to_string())
        .collect();
    let Some(namespace) = namespaces.iter().find(|n| n.starts_with(BOM_NAMESPACE)) else {
        return Err(format!(
            "not a CycloneDX XML document: <bom> has no namespace {BOM_NAMESPACE}1.x (found {namespaces:?})"
        ));
    };
    let version = &namespace[BOM_NAMESPACE.len()..];
    let minor = version.strip_prefix("1.").and_then(|m| m.parse::<u32>().ok());
    match minor {
        Some(0..=7) => Ok(()),
        _ => Err(format!(
            "unsupported CycloneDX XML version {version:?} (namespace {namespace}): this parser reads 1.0 to 1.7"
        )),
    }
}

// ---------------------------------------------------------------------------
// The parts of a document, as they are read.
// ---------------------------------------------------------------------------

/// The fields of a `component` element (or of `metadata/component`).
#[derive(Debug, Default, Clone)]
struct ComponentFields {
    bom_ref: Option<String>,
    kind: Option<String>,
    group: Option<String>,
    name: Option<String>,
    version: Option<String>,
    purl: Option<String>,
}

impl ComponentFields {
    fn set(&mut self, field: &str, text: &str) {
        let value = util::non_empty(Some(text));
        match field {
            "group" => self.group = value,
            "name" => self.name = value,
            "version" => self.version = value,
            "purl" => self.purl = value,
            _ => {}
        }
    }
}

/// A `components/component` being read.
#[derive(Debug)]
struct Frame {
    /// The depth of the stack with the `component` element on it.
    depth: usize,
    fields: ComponentFields,
    /// The component and its asset key, once its asset was sent (`None`
    /// inside when it has no name).
    sent: Option<Option<(Component, AssetKey)>>,
}

/// A tool named in `metadata/tools`.
#[derive(Debug, Default)]
struct ToolEntry {
    /// The depth of the stack with the tool's element on it.
    depth: usize,
    vendor: Option<String>,
    name: Option<String>,
}

/// The asset that the document describes, and the scope it covers.
#[derive(Debug)]
struct Subject {
    tool: String,
    target: String,
    key: AssetKey,
}

#[derive(Debug, Default)]
struct Rating {
    score: Option<String>,
    severity: Option<String>,
    method: Option<String>,
    vector: Option<String>,
}

#[derive(Debug, Default)]
struct Affect {
    reference: Option<String>,
    versions: Vec<VersionEntry>,
}

/// One `affects/target/versions/version` entry.
#[derive(Debug, Default)]
struct VersionEntry {
    version: Option<String>,
    range: Option<String>,
    status: Option<String>,
}

/// A vulnerability being read, in either form.
#[derive(Debug, Default)]
struct Vulnerability {
    /// The depth of the stack with the `vulnerability` element on it.
    depth: usize,
    /// The component that encloses an extension vulnerability.
    owner: Option<Component>,
    id: Option<String>,
    source_name: Option<String>,
    urls: Vec<String>,
    reference_ids: Vec<String>,
    ratings: Vec<Rating>,
    rating: Option<Rating>,
    cwes: Vec<String>,
    description: Option<String>,
    detail: Option<String>,
    recommendation: Option<String>,
    state: Option<String>,
    justification: Option<String>,
    responses: Vec<String>,
    analysis_detail: Option<String>,
    first_issued: Option<String>,
    last_updated: Option<String>,
    updated: Option<String>,
    affects: Vec<Affect>,
    affect: Option<Affect>,
    version: VersionEntry,
}

/// The parts of a document that its VEX statements take.
#[derive(Debug, Default)]
struct VexDocument {
    serial_number: Option<String>,
    timestamp: Option<String>,
    /// Names of the supplier, the manufacturer and the first author, in
    /// the order they are preferred.
    authors: [Option<String>; 3],
    subject: Option<CycloneDxSubject>,
}

/// The reader's place in the document and what it keeps.
struct State<'a, 'c> {
    context: &'a ParseContext<'c>,
    sink: &'a mut dyn Sink,
    /// Local names of the open elements.
    stack: Vec<String>,
    /// Text of the element being read.
    text: String,
    tools: Vec<ToolEntry>,
    tool: Option<ToolEntry>,
    subject_fields: Option<ComponentFields>,
    subject: Option<Subject>,
    frames: Vec<Frame>,
    /// Components by `bom-ref` (or purl where they have none).
    known: HashMap<String, Component>,
    sent: BTreeSet<AssetKey>,
    components_done: bool,
    vulnerability: Option<Vulnerability>,
    /// Vulnerabilities read before the components, emitted once they are read.
    pending: Vec<Vulnerability>,
    document: VexDocument,
    /// The subject's asset, until it is sent with the scope (see
    /// [`State::declare_subject`]).
    pending_subject: Option<Asset>,
    components_seen: bool,
    findings_sent: usize,
    statements_sent: usize,
}

impl<'a, 'c> State<'a, 'c> {
    fn new(context: &'a ParseContext<'c>, sink: &'a mut dyn Sink) -> State<'a, 'c> {
        State {
            context,
            sink,
            stack: Vec::new(),
            text: String::new(),
            tools: Vec::new(),
            tool: None,
            subject_fields: None,
            subject: None,
            frames: Vec::new(),
            known: HashMap::new(),
            sent: BTreeSet::new(),
            components_done: false,
            vulnerability: None,
            pending: Vec::new(),
            document: VexDocument::default(),
            pending_subject: None,
            components_seen: false,
            findings_sent: 0,
            statements_sent: 0,
        }
    }

    fn text(&mut self, text: &str) {
        let room = TEXT_BYTES.saturating_sub(self.text.len());
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

    /// Returns whether the open elements end with these local names.
    fn at(&self, names: &[&str]) -> bool {
        self.stack.len() >= names.len()
            && self.stack[self.stack.len() - names.len()..]
                .iter()
                .zip(names)
                .all(|(open, name)| open == name)
    }

    fn open(&mut self, element: &BytesStart<'_>) -> Result<(), String> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!(
                "elements nest deeper than {MAX_DEPTH} levels: this is not a CycloneDX document a tool wrote"
            ));
        }
        let name = String::from_utf8_lossy(element.local_name().as_ref()).into_owned();
        let attribute = |key: &str| util::xml_attribute(element, key).and_then(|v| util::non_empty(Some(&v)));
        self.text.clear();

        if self.vulnerability.is_some() {
            self.open_in_vulnerability(&name, attribute("name"));
            self.stack.push(name);
            return Ok(());
        }

        let depth = self.stack.len();
        match name.as_str() {
            "bom" if depth == 0 => self.document.serial_number = attribute("serialNumber"),
            "tool" if self.at(&["bom", "metadata", "tools"]) => {
                self.tool = Some(ToolEntry {
                    depth: depth + 1,
                    ..ToolEntry::default()
                });
            }
            "component" | "service"
                if self.at(&["bom", "metadata", "tools", "components"])
                    || self.at(&["bom", "metadata", "tools", "services"]) =>
            {
                self.tool = Some(ToolEntry {
                    depth: depth + 1,
                    ..ToolEntry::default()
                });
            }
            "component" if self.at(&["bom", "metadata"]) => {
                self.subject_fields = Some(ComponentFields {
                    bom_ref: attribute("bom-ref"),
                    kind: attribute("type"),
                    ..ComponentFields::default()
                });
            }
            "components" if depth == 1 => self.ensure_subject(),
            "component" if self.opens_frame() => self.frames.push(Frame {
                depth: depth + 1,
                fields: ComponentFields {
                    bom_ref: attribute("bom-ref"),
                    kind: attribute("type"),
                    ..ComponentFields::default()
                },
                sent: None,
            }),
            // A nested `components` or an extension `vulnerabilities`
            // needs its parent component's asset.
            "components" | "vulnerabilities" if self.in_frame_body() => {
                self.send_top_frame();
            }
            "vulnerability" if self.at(&["vulnerabilities"]) => {
                self.ensure_subject();
                let owner = if self.in_frame_body_at(depth - 1) {
                    self.send_top_frame()
                } else {
                    None
                };
                let mut vulnerability = Vulnerability {
                    depth: depth + 1,
                    owner,
                    ..Vulnerability::default()
                };
                // The extension names the affected component in `ref`.
                if let Some(reference) = attribute("ref").filter(|_| vulnerability.owner.is_none()) {
                    vulnerability.affects.push(Affect {
                        reference: Some(reference),
                        versions: Vec::new(),
                    });
                }
                self.vulnerability = Some(vulnerability);
            }
            _ => {}
        }
        self.stack.push(name);
        Ok(())
    }

    /// Returns whether a `component` opening here is a component of the
    /// document: in the root `components`, or nested in such a component.
    fn opens_frame(&self) -> bool {
        if self.at(&["bom", "components"]) && self.stack.len() == 2 {
            return true;
        }
        self.at(&["component", "components"])
            && self
                .frames
                .last()
                .is_some_and(|frame| frame.depth + 1 == self.stack.len())
    }

    /// Returns whether the open element is a direct child of the innermost
    /// component being read.
    fn in_frame_body(&self) -> bool {
        self.in_frame_body_at(self.stack.len())
    }

    fn in_frame_body_at(&self, depth: usize) -> bool {
        self.frames.last().is_some_and(|frame| frame.depth == depth)
    }

    fn open_in_vulnerability(&mut self, name: &str, name_attribute: Option<String>) {
        let Some(vulnerability) = &mut self.vulnerability else {
            return;
        };
        let path = &self.stack[vulnerability.depth..];
        match (path, name) {
            // The extension's `<v:source name="NVD">`.
            ([], "source") => {
                if let Some(source) = name_attribute {
                    vulnerability.source_name = Some(source);
                }
            }
            ([ratings], "rating") if ratings == "ratings" => vulnerability.rating = Some(Rating::default()),
            ([affects], "target") if affects == "affects" => vulnerability.affect = Some(Affect::default()),
            ([_, _, versions], "version") if versions == "versions" => vulnerability.version = VersionEntry::default(),
            _ => {}
        }
    }

    fn close(&mut self) {
        let Some(name) = self.stack.pop() else {
            return;
        };
        let text = std::mem::take(&mut self.text);
        let text = text.trim();

        if let Some(vulnerability) = &self.vulnerability {
            if self.stack.len() + 1 == vulnerability.depth {
                if let Some(vulnerability) = self.vulnerability.take() {
                    self.vulnerability_done(vulnerability);
                }
            } else {
                self.close_in_vulnerability(&name, text);
            }
            return;
        }

        let depth = self.stack.len() + 1;
        if let Some(tool) = &mut self.tool {
            if tool.depth == depth {
                if let Some(tool) = self.tool.take() {
                    self.tools.push(tool);
                }
            } else if tool.depth + 1 == depth {
                match name.as_str() {
                    "name" => tool.name = util::non_empty(Some(text)),
                    "vendor" | "group" => tool.vendor = util::non_empty(Some(text)),
                    _ => {}
                }
            }
            return;
        }
        if self.at(&["bom", "metadata", "component"]) && self.stack.len() == 3 {
            if let Some(fields) = &mut self.subject_fields {
                fields.set(&name, text);
            }
            return;
        }
        if name == "metadata" && depth == 2 {
            self.ensure_subject();
            return;
        }
        if self.stack.len() >= 2 && self.stack[..2] == ["bom", "metadata"] {
            let path: Vec<&str> = self.stack[2..].iter().map(String::as_str).collect();
            let value = util::non_empty(Some(text));
            match (path.as_slice(), name.as_str()) {
                ([], "timestamp") => self.document.timestamp = value,
                (["supplier"], "name") => self.document.authors[0] = value,
                (["manufacturer" | "manufacture"], "name") => self.document.authors[1] = value,
                (["authors", "author"], "name") if self.document.authors[2].is_none() => {
                    self.document.authors[2] = value
                }
                _ => {}
            }
        }
        if name == "components" && depth == 2 {
            self.components_done = true;
            for vulnerability in std::mem::take(&mut self.pending) {
                self.emit(vulnerability);
            }
            return;
        }
        if let Some(frame) = self.frames.last_mut() {
            if frame.depth == depth && name == "component" {
                self.send_top_frame();
                self.frames.pop();
            } else if frame.depth + 1 == depth && frame.sent.is_none() {
                frame.fields.set(&name, text);
            }
        }
    }

    fn close_in_vulnerability(&mut self, name: &str, text: &str) {
        let Some(vulnerability) = &mut self.vulnerability else {
            return;
        };
        let value = util::non_empty(Some(text));
        let path: Vec<&str> = self.stack[vulnerability.depth..].iter().map(String::as_str).collect();
        match (path.as_slice(), name) {
            ([], "id") => vulnerability.id = value,
            ([], "description") => vulnerability.description = value,
            ([], "detail") => vulnerability.detail = value,
            // The extension allows several recommendations: they are kept in order.
            ([], "recommendation") | (["recommendations"], "recommendation") => {
                vulnerability.recommendation = match (vulnerability.recommendation.take(), value) {
                    (Some(first), Some(next)) => Some(format!("{first}\n{next}")),
                    (first, next) => next.or(first),
                };
            }
            (["source"], "name") => vulnerability.source_name = value,
            (["source"], "url")
            | (["references", "reference", "source"], "url")
            | (["advisories", "advisory"], "url") => {
                vulnerability.urls.extend(value);
            }
            // The extension's advisories are URLs as text.
            (["advisories"], "advisory") => vulnerability.urls.extend(value),
            (["references", "reference"], "id") => vulnerability.reference_ids.extend(value),
            (["cwes"], "cwe") => vulnerability.cwes.extend(value),
            (["ratings", "rating"], field) | (["ratings", "rating", "score"], field) => {
                if let Some(rating) = &mut vulnerability.rating {
                    match field {
                        // The number is in `score` in 1.4+, and in `score/base` in the extension.
                        "score" | "base" if value.is_some() => rating.score = value,
                        "severity" => rating.severity = value,
                        "method" => rating.method = value,
                        "vector" => rating.vector = value,
                        _ => {}
                    }
                }
            }
            (["ratings"], "rating") => {
                if let Some(rating) = vulnerability.rating.take() {
                    vulnerability.ratings.push(rating);
                }
            }
            (["analysis"], "state") => vulnerability.state = value,
            (["analysis"], "justification") => vulnerability.justification = value,
            (["analysis"], "detail") => vulnerability.analysis_detail = value,
            (["analysis"], "firstIssued") => vulnerability.first_issued = value,
            (["analysis"], "lastUpdated") => vulnerability.last_updated = value,
            ([], "updated") => vulnerability.updated = value,
            (["analysis", "responses"], "response") => vulnerability.responses.extend(value),
            (["affects", "target"], "ref") => {
                if let Some(affect) = &mut vulnerability.affect {
                    affect.reference = value;
                }
            }
            (["affects", "target", "versions", "version"], field) => match field {
                "version" => vulnerability.version.version = value,
                "range" => vulnerability.version.range = value,
                "status" => vulnerability.version.status = value,
                _ => {}
            },
            (["affects", "target", "versions"], "version") => {
                let version = std::mem::take(&mut vulnerability.version);
                if let Some(affect) = &mut vulnerability.affect {
                    affect.versions.push(version);
                }
            }
            (["affects"], "target") => {
                if let Some(affect) = vulnerability.affect.take() {
                    vulnerability.affects.push(affect);
                }
            }
            _ => {}
        }
    }

    // -----------------------------------------------------------------------
    // Turning the parts into records.
    // -----------------------------------------------------------------------

    /// Sets the subject from `metadata/component` (or the default target
    /// without one) and declares its asset and scope, once.
    fn ensure_subject(&mut self) {
        if self.subject.is_some() {
            return;
        }
        let tool = tool_name(&self.tools);
        let fields = self.subject_fields.take().filter(|fields| fields.name.is_some());
        let (target, asset) = match &fields {
            Some(fields) => subject_asset(fields),
            None => {
                let target = self.context.default_target.to_string();
                let asset = Asset::new(AssetKind::Other, &target, target.clone());
                (target, asset)
            }
        };
        let key = asset.key.clone();
        self.document.subject = fields.as_ref().map(|fields| CycloneDxSubject {
            bom_ref: fields.bom_ref.clone(),
            name: fields.name.clone().unwrap_or_default(),
            version: fields.version.clone(),
            purl: fields.purl.as_deref().and_then(|p| p.parse::<Purl>().ok()),
        });
        self.pending_subject = Some(asset);
        self.subject = Some(Subject { tool, target, key });
    }

    /// Sends the subject's asset and declares its scope, once: before the
    /// first component or finding, or when the document ends, unless the
    /// document turned out to hold VEX statements only.
    fn declare_subject(&mut self) {
        let (Some(asset), Some(subject)) = (self.pending_subject.take(), &self.subject) else {
            return;
        };
        self.sink.asset(asset);
        self.sink.target(&subject.tool, &subject.target);
    }

    fn send_finding(&mut self, finding: Finding) {
        self.declare_subject();
        self.findings_sent += 1;
        self.sink.finding(finding);
    }

    /// Sends the asset of the innermost component being read and its
    /// `Contains` relationship from its parent, once, and returns its
    /// component.
    fn send_top_frame(&mut self) -> Option<Component> {
        self.ensure_subject();
        let parent = match self.frames.len() {
            0 | 1 => self.subject.as_ref().map(|s| s.key.clone()),
            n => self.frames[n - 2].sent.clone().flatten().map(|(_, key)| key),
        };
        let frame = self.frames.last_mut()?;
        if let Some(sent) = &frame.sent {
            return sent.as_ref().map(|(component, _)| component.clone());
        }

        let Some(name) = frame.fields.name.clone() else {
            frame.sent = Some(None);
            return None;
        };
        let purl = frame.fields.purl.as_deref().and_then(|p| p.parse::<Purl>().ok());
        let component = Component {
            name: name.clone(),
            version: frame.fields.version.clone(),
            ecosystem: purl.as_ref().map(|p| p.ty().to_string()),
            purl,
        };
        let identifier = match (&component.purl, &component.version) {
            (Some(purl), _) => purl.to_string(),
            (None, Some(version)) => format!("{name}@{version}"),
            (None, None) => name.clone(),
        };
        let key = AssetKey::new(AssetKind::Component, &identifier);
        frame.sent = Some(Some((component.clone(), key.clone())));
        let fields = frame.fields.clone();
        self.declare_subject();
        self.components_seen = true;

        if self.sent.insert(key.clone()) {
            let mut asset = Asset::new(AssetKind::Component, &identifier, name);
            if let Some(purl) = &component.purl {
                asset.add_identifier("purl", purl.to_string());
            }
            let attributes = [
                ("version", fields.version),
                ("group", fields.group),
                ("type", fields.kind),
            ];
            for (attribute, value) in attributes {
                if let Some(value) = value {
                    asset.attributes.insert(attribute.to_string(), value);
                }
            }
            self.sink.asset(asset);
        }
        if let Some(parent) = parent {
            self.sink
                .relationship(Relationship::new(parent, RelationshipKind::Contains, key));
        }
        match (fields.bom_ref, &component.purl) {
            (Some(reference), _) => {
                self.known.insert(reference, component.clone());
            }
            // Without a bom-ref, `affects` can only name the purl.
            (None, Some(purl)) => {
                self.known.insert(purl.to_string(), component.clone());
            }
            (None, None) => {}
        }
        Some(component)
    }

    fn vulnerability_done(&mut self, vulnerability: Vulnerability) {
        if self.components_done || vulnerability.owner.is_some() || vulnerability.affects.is_empty() {
            self.emit(vulnerability);
        } else {
            self.pending.push(vulnerability);
        }
    }

    fn finish(&mut self) {
        self.ensure_subject();
        for vulnerability in std::mem::take(&mut self.pending) {
            self.emit(vulnerability);
        }

        // A VEX document (statements only, no components of its own) is no
        // scan, so it declares no scope and no subject asset.
        let vex_only = self.statements_sent > 0 && self.findings_sent == 0 && !self.components_seen;
        if !vex_only {
            self.declare_subject();
        }
    }

    /// Sends one finding per affected component of the vulnerability. An
    /// analysed vulnerability whose targets name no component of the
    /// document (the subject, a BOM-link, a purl) is a VEX statement about
    /// those products instead.
    fn emit(&mut self, vulnerability: Vulnerability) {
        self.ensure_subject();
        let Some(subject) = &self.subject else {
            return;
        };
        let Some(id) = vulnerability.id.clone() else {
            return;
        };
        let template = vulnerability_finding(&id, &vulnerability, subject);

        if let Some(owner) = &vulnerability.owner {
            let mut finding = template;
            set_component(&mut finding, &id, owner);
            self.send_finding(finding);
            return;
        }

        let analysed = vulnerability
            .state
            .as_deref()
            .is_some_and(|state| vex_shared::cyclonedx_status(state).is_some());
        let mut emitted = 0;
        let mut products: Vec<VexProduct> = Vec::new();
        for affect in &vulnerability.affects {
            let Some(reference) = affect.reference.clone() else {
                continue;
            };
            let mut finding = template.clone();
            match self.known.get(&reference) {
                Some(component) => set_component(&mut finding, &id, component),
                None if analysed => {
                    let versions: Vec<VexVersion> = affect
                        .versions
                        .iter()
                        .map(|entry| VexVersion {
                            version: entry.version.clone(),
                            range: entry.range.clone(),
                        })
                        .collect();
                    products.extend(vex_shared::cyclonedx_products(
                        &reference,
                        self.document.subject.as_ref(),
                        &versions,
                    ));
                    continue;
                }
                None => {
                    finding.attributes.insert("affects_ref".to_string(), reference);
                }
            }
            finding.fix.fixed_versions = unaffected_versions(affect);
            self.send_finding(finding);
            emitted += 1;
        }

        if !products.is_empty()
            && let Some(statement) = self.vex_statement(&id, &vulnerability, products)
        {
            self.sink.vex(statement);
            self.statements_sent += 1;
            return;
        }
        if emitted == 0 {
            self.send_finding(template);
        }
    }

    /// Builds the VEX statement of an analysed vulnerability about products
    /// outside the document.
    fn vex_statement(
        &self,
        id: &str,
        vulnerability: &Vulnerability,
        products: Vec<VexProduct>,
    ) -> Option<VexStatement> {
        let timestamps = [
            vulnerability.last_updated.as_deref(),
            vulnerability.first_issued.as_deref(),
            vulnerability.updated.as_deref(),
            self.document.timestamp.as_deref(),
        ];
        let input = CycloneDxAnalysis {
            id,
            aliases: vulnerability.reference_ids.iter().map(String::as_str).collect(),
            state: vulnerability.state.as_deref().unwrap_or_default(),
            justification: vulnerability.justification.as_deref(),
            responses: vulnerability.responses.iter().map(String::as_str).collect(),
            detail: vulnerability.analysis_detail.as_deref(),
            recommendation: vulnerability.recommendation.as_deref(),
            timestamps: timestamps.into_iter().flatten().collect(),
        };
        let mut source = VexSource::new(FORMAT_ID, self.context.path);
        source.document_id = self.document.serial_number.clone();
        source.author = self.document.authors.iter().flatten().next().cloned();
        vex_shared::cyclonedx_statement(&input, products, source)
    }
}

/// Sets a finding's component and the title that names it.
fn set_component(finding: &mut Finding, id: &str, component: &Component) {
    finding.title = match &component.version {
        Some(version) => format!("{id} in {} {version}", component.name),
        None => format!("{id} in {}", component.name),
    };
    finding.component = Some(component.clone());
}

/// Returns the name of the tool that wrote the document: the first tool
/// named in `metadata/tools`, or `cyclonedx` for CycloneDX's own generators
/// and documents that name none.
fn tool_name(tools: &[ToolEntry]) -> String {
    let Some(tool) = tools.iter().find(|t| t.name.is_some()) else {
        return DEFAULT_TOOL.to_string();
    };
    if tool
        .vendor
        .as_deref()
        .is_some_and(|vendor| vendor.to_ascii_lowercase().contains("cyclonedx"))
    {
        return DEFAULT_TOOL.to_string();
    }
    let name = tool.name.as_deref().unwrap_or_default().to_lowercase();
    name.split_whitespace().collect::<Vec<_>>().join("-")
}

/// Returns the scope target and the asset of the subject.
fn subject_asset(fields: &ComponentFields) -> (String, Asset) {
    let name = fields.name.as_deref().unwrap_or_default();
    let target = match &fields.group {
        Some(group) => format!("{group}/{name}"),
        None => name.to_string(),
    };
    let kind = match fields.kind.as_deref() {
        Some("container") => AssetKind::ContainerImage,
        Some("application") => AssetKind::Repository,
        Some("library" | "framework") => AssetKind::Component,
        _ => AssetKind::Other,
    };

    let mut asset = Asset::new(kind, &target, name.to_string());
    let purl = fields.purl.as_deref().and_then(|p| p.parse::<Purl>().ok());
    if let Some(purl) = &purl {
        asset.add_identifier("purl", purl.to_string());
        // An OCI purl's version is the image digest (`sha256:...`).
        let digest = purl
            .version()
            .filter(|v| purl.ty() == "oci" && v.starts_with("sha256:"));
        if let Some(digest) = digest {
            asset.add_identifier("image_digest", digest.to_string());
        }
    }
    if let Some(version) = &fields.version {
        asset.attributes.insert("version".to_string(), version.clone());
    }
    if let Some(kind) = &fields.kind {
        asset.attributes.insert("type".to_string(), kind.clone());
    }
    (target, asset)
}

/// Builds the part of a vulnerability's findings that every affected
/// component shares.
fn vulnerability_finding(id: &str, vulnerability: &Vulnerability, subject: &Subject) -> Finding {
    let mut finding = Finding::new(
        &subject.tool,
        id,
        FindingKind::Vulnerability,
        id,
        Severity::Info,
        subject.key.clone(),
    );
    finding.target = Some(subject.target.clone());

    util::add_vulnerability_id(&mut finding, id);
    for other in &vulnerability.reference_ids {
        util::add_vulnerability_id(&mut finding, other);
    }
    for cwe in &vulnerability.cwes {
        util::add_cwe(&mut finding, cwe);
    }
    for rating in &vulnerability.ratings {
        if let Some(vector) = normalized_vector(rating) {
            util::add_cvss(&mut finding, &vector);
        }
    }
    finding.severity = severity(&vulnerability.ratings, &finding);

    let texts: Vec<String> = [vulnerability.description.clone(), vulnerability.detail.clone()]
        .into_iter()
        .flatten()
        .collect();
    finding.description = (!texts.is_empty()).then(|| texts.join("\n\n"));
    finding.fix.description = vulnerability.recommendation.clone();
    for url in &vulnerability.urls {
        if !finding.references.contains(url) {
            finding.references.push(url.clone());
        }
    }

    finding.source_status = vulnerability.state.as_deref().and_then(source_status);
    let attributes = [
        ("analysis_state", vulnerability.state.clone()),
        ("analysis_justification", vulnerability.justification.clone()),
        (
            "analysis_response",
            (!vulnerability.responses.is_empty()).then(|| vulnerability.responses.join(", ")),
        ),
        ("analysis_detail", vulnerability.analysis_detail.clone()),
        ("source", vulnerability.source_name.clone()),
    ];
    for (name, value) in attributes {
        if let Some(value) = value {
            finding.attributes.insert(name.to_string(), value);
        }
    }
    finding
}

/// Returns a rating's vector with the `CVSS:3.x/` or `CVSS:4.0/` prefix
/// that its method implies when the vector lacks one.
fn normalized_vector(rating: &Rating) -> Option<String> {
    let vector = rating.vector.clone()?;
    if vector.starts_with("CVSS:") || vector.starts_with('(') {
        return Some(vector);
    }
    let prefix = match rating.method.as_deref() {
        Some("CVSSv3") => "CVSS:3.0/",
        Some("CVSSv31") => "CVSS:3.1/",
        Some("CVSSv4") => "CVSS:4.0/",
        Some("CVSSv2") => "",
        // OWASP risk rating, SSVC and "other" vectors are not CVSS.
        _ => return None,
    };
    Some(format!("{prefix}{vector}"))
}

/// Returns the highest severity word of the ratings, else the rating of the
/// highest CVSS vector or score, else Info.
fn severity(ratings: &[Rating], finding: &Finding) -> Severity {
    let stated = ratings
        .iter()
        .filter_map(|r| r.severity.as_deref())
        .filter_map(|word| word.parse::<Severity>().ok())
        .max();
    if let Some(severity) = stated {
        return severity;
    }
    if let Some(vector) = finding.max_cvss() {
        return Severity::from_cvss_score(vector.base_score());
    }
    ratings
        .iter()
        .filter_map(|r| r.score.as_deref()?.parse::<f64>().ok())
        .filter(|score| (0.0..=10.0).contains(score))
        .max_by(f64::total_cmp)
        .map(Severity::from_cvss_score)
        .unwrap_or(Severity::Info)
}

/// Maps an `analysis/state` to the document's status.
fn source_status(state: &str) -> Option<SourceStatus> {
    match state {
        "not_affected" => Some(SourceStatus::NotAffected),
        "resolved" | "resolved_with_pedigree" => Some(SourceStatus::Fixed),
        "exploitable" => Some(SourceStatus::Affected),
        "in_triage" => Some(SourceStatus::UnderInvestigation),
        "false_positive" => Some(SourceStatus::FalsePositive),
        _ => None,
    }
}

/// Returns the versions that `affects` marks unaffected, which are the
/// fixed versions where a tool lists them.
fn unaffected_versions(affect: &Affect) -> Vec<String> {
    let mut unique: Vec<String> = Vec::new();
    for entry in &affect.versions {
        if entry.status.as_deref() != Some("unaffected") {
            continue;
        }
        // A range is listed as written, as a version would be.
        if let Some(version) = entry.version.as_ref().or(entry.range.as_ref())
            && !unique.contains(version)
        {
            unique.push(version.clone());
        }
    }
    unique
}
