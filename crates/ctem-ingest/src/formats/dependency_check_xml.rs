//! OWASP Dependency-Check XML reports: `dependency-check --format XML`
//! (`dependency-check-report.xml`).
//!
//! # Reads
//!
//! The `<analysis>` document of the report schemas 1.x to 3.x
//! (`https://jeremylong.github.io/DependencyCheck/dependency-check.2.5.xsd`
//! and its siblings; Dependency-Check 1.4 to 12), matched by local element
//! names so that a namespace prefix does not matter: `projectInfo`, and
//! each `dependencies/dependency` with its `fileName`, `filePath`, hashes,
//! `evidenceCollected`, `identifiers`, `relatedDependencies`,
//! `vulnerabilities` and `suppressedVulnerabilities`.
//!
//! # Field mapping
//!
//! - `vulnerability/name` (a CVE id, an advisory id such as an NPM or OSS
//!   Index id, or a CWE name) -> `rule_id`; a CVE, GHSA or other prefixed
//!   id -> the vulnerability id (a bare number or a CWE name is none).
//! - `severity` -> `severity` (`moderate` is `Medium`); a missing or
//!   unknown word falls back to the highest CVSS score, else `Info`.
//! - `cvssV2` (`accessVector`, `accessComplexity`, `authenticationr`,
//!   `confidentialImpact`, `integrityImpact`, `availabilityImpact`), the
//!   `cvssAccessVector`... elements of schema 1.x, and `cvssV3`
//!   (`attackVector` ... `availabilityImpact`, words or letters) -> `cvss`,
//!   built from the metrics where no `vectorString` is given. A v3 vector
//!   gets the `CVSS:x.y/` prefix of its `version`, else `CVSS:3.1/`.
//!   `score`, `cvssScore` and `baseScore` -> the attributes `cvss_v2_score`
//!   and `cvss_v3_score`.
//! - `cwes/cwe` (and the `cwe` of schema 1.x, `CWE-79 Improper ...`) ->
//!   `cwes`; a CWE name as `name` adds its CWE too.
//! - `description` -> `description`; `references/reference/url` ->
//!   `references`; `source` -> an attribute.
//! - `suppressedVulnerability` -> `source_status` `Suppressed`, with its
//!   `notes` as the attribute `notes`.
//! - The component: the first `identifiers/package/id` purl (a Maven purl
//!   is named `group:artifact`), else an `identifier type="maven"` of
//!   schema 1.x (`group:artifact:version`), else the product and version
//!   evidence of the highest confidence, else `fileName`.
//! - `filePath` -> `location.path`; `fileName`, `sha1`, `isVirtual`, the
//!   `projectReferences` and the paths of `relatedDependencies` (the same
//!   library found at other paths) -> attributes.
//! - Assets: the project (a repository keyed by the scope target) and one
//!   component per vulnerable dependency that the project contains.
//!
//! # Scope target
//!
//! `projectInfo` `groupID:artifactID`, else its `name`, else
//! [`ParseContext::default_target`]. The project version is left out, so
//! that the scan of the next release covers the same scope.
//!
//! # Fingerprint
//!
//! The tool `dependency-check`, the vulnerability name, the project, the
//! component (purl, else name and version) and the dependency's
//! `filePath`.
//!
//! # Not read yet
//!
//! `scanInfo`, `vulnerableSoftware` (the CPE ranges that matched),
//! `vulnerabilityIds` (the CPEs of a dependency), licenses, the CVSS v4
//! metrics where no `vectorString` is given, and the related dependencies
//! as findings of their own.
//!
//! # Reference
//!
//! The report schemas, <https://jeremylong.github.io/DependencyCheck/general/dependency-check.2.5.xsd>
//! and the XML template `src/main/resources/templates/xmlReport.vsl` of
//! <https://github.com/jeremylong/DependencyCheck>.

use std::io::BufRead;

use ctem_model::{Asset, AssetKey, AssetKind, Component, Finding, FindingKind, Purl, Severity, SourceStatus};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::report_shared::{self, AssetSet};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Position, Sink, util};

const FORMAT_ID: &str = "dependency-check-xml";
const TOOL: &str = "dependency-check";

/// The maximum text kept of one element, in bytes. Longer text is cut.
const FIELD_BYTES: usize = 256 * 1024;

/// The deepest element nesting read. Reports nest about ten levels, so a
/// deeper document is hostile or broken.
const MAX_DEPTH: usize = 64;

/// The report schema versions this parser reads (major version).
const SCHEMA_MAJORS: std::ops::RangeInclusive<u32> = 1..=3;

/// The OWASP Dependency-Check XML parser.
pub struct DependencyCheckXml;

impl Parser for DependencyCheckXml {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "OWASP Dependency-Check XML",
            tool: "OWASP Dependency-Check",
            versions: "report schema 1.x to 3.x (Dependency-Check 1.4 to 12)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let has = |needle: &[u8]| util::contains(head, needle);
        if has(b"DependencyCheck/dependency-check.") && has(b"analysis") {
            Detection::Certain
        } else if has(b"<analysis") && has(b"<dependencies>") && has(b"<projectInfo>") {
            Detection::Maybe
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
            default_target: context.default_target,
            assets: AssetSet::default(),
            stack: Vec::new(),
            text: String::new(),
            project: ProjectInfo::default(),
            scope: None,
            dependency: None,
            vulnerability: None,
            evidence: None,
        };
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
                    state.close().map_err(fail)?;
                }
                Event::End(_) => state.close().map_err(fail)?,
                Event::Text(text) => {
                    let text = text.decode().map_err(|error| fail(format!("invalid text: {error}")))?;
                    state.push_text(&text);
                }
                Event::CData(data) => {
                    let data = data.decode().map_err(|error| fail(format!("invalid CDATA: {error}")))?;
                    state.push_text(&data);
                }
                Event::GeneralRef(reference) => {
                    let name = reference
                        .decode()
                        .map_err(|error| fail(format!("invalid reference: {error}")))?;
                    state.push_text(&util::xml_reference(&name));
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
                "no XML element found: expected a Dependency-Check report with an <analysis> root element",
            ));
        }
        if !state.stack.is_empty() {
            return Err(at_end("the file ends inside an open element, it may be truncated"));
        }
        state.declare_scope();
        Ok(())
    }
}

/// Checks the root element: `<analysis>` in a report schema this parser
/// reads.
fn check_root(element: &BytesStart<'_>) -> Result<(), String> {
    let name = String::from_utf8_lossy(element.local_name().as_ref()).into_owned();
    if name != "analysis" {
        return Err(format!(
            "not a Dependency-Check XML report: expected the root element <analysis>, found <{name}>"
        ));
    }
    let namespace = element
        .attributes()
        .with_checks(false)
        .flatten()
        .find(|attribute| attribute.key.as_ref() == b"xmlns" || attribute.key.as_ref().starts_with(b"xmlns:"))
        .map(|attribute| String::from_utf8_lossy(&attribute.value).into_owned());
    let Some(namespace) = namespace else {
        return Ok(());
    };
    let Some(version) = schema_version(&namespace) else {
        return Ok(());
    };
    let major = version.split('.').next().and_then(|major| major.parse::<u32>().ok());
    match major {
        Some(major) if SCHEMA_MAJORS.contains(&major) => Ok(()),
        _ => Err(format!(
            "unsupported Dependency-Check report schema {version} ({namespace}): this parser reads schemas 1.x to \
             3.x"
        )),
    }
}

/// The version in a schema namespace such as
/// `https://jeremylong.github.io/DependencyCheck/dependency-check.2.5.xsd`.
fn schema_version(namespace: &str) -> Option<&str> {
    let start = namespace.find("dependency-check.")? + "dependency-check.".len();
    namespace[start..].strip_suffix(".xsd")
}

// ---------------------------------------------------------------------------
// Records being read.
// ---------------------------------------------------------------------------

#[derive(Debug, Default)]
struct ProjectInfo {
    name: Option<String>,
    group_id: Option<String>,
    artifact_id: Option<String>,
    version: Option<String>,
}

/// One `<evidence>` being read: its type, confidence and value.
#[derive(Debug, Default)]
struct Evidence {
    kind: String,
    confidence: u8,
    value: Option<String>,
}

#[derive(Debug, Default)]
struct Dependency {
    file_name: Option<String>,
    file_path: Option<String>,
    sha1: Option<String>,
    is_virtual: bool,
    purl: Option<String>,
    maven: Option<String>,
    /// The best product and version evidence, with its confidence.
    product: Option<(u8, String)>,
    version: Option<(u8, String)>,
    related_paths: Vec<String>,
    project_references: Vec<String>,
    vulnerabilities: Vec<Vulnerability>,
}

/// The metrics of one CVSS element, as (element name, text).
type Metrics = Vec<(String, String)>;

#[derive(Debug, Default)]
struct Vulnerability {
    suppressed: bool,
    source: Option<String>,
    name: Option<String>,
    severity: Option<String>,
    description: Option<String>,
    notes: Option<String>,
    cwes: Vec<String>,
    references: Vec<String>,
    /// `cvssV2`, and the `cvss...` elements of schema 1.x.
    cvss_v2: Metrics,
    cvss_v3: Metrics,
    cvss_v4: Metrics,
}

/// The reader's place in the document and the records being built.
struct State<'a> {
    sink: &'a mut dyn Sink,
    default_target: &'a str,
    assets: AssetSet,
    /// Local names of the open elements.
    stack: Vec<String>,
    /// Text of the innermost open element.
    text: String,
    project: ProjectInfo,
    scope: Option<(AssetKey, String)>,
    dependency: Option<Dependency>,
    vulnerability: Option<Vulnerability>,
    evidence: Option<Evidence>,
}

fn confidence(text: Option<&str>) -> u8 {
    match text.map(str::to_ascii_uppercase).as_deref() {
        Some("HIGHEST") => 4,
        Some("HIGH") => 3,
        Some("MEDIUM") => 2,
        Some("LOW") => 1,
        _ => 0,
    }
}

impl State<'_> {
    fn push_text(&mut self, text: &str) {
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

    fn open(&mut self, element: &BytesStart<'_>) -> Result<(), String> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!(
                "elements nest deeper than {MAX_DEPTH} levels: not a Dependency-Check report, or a corrupt one"
            ));
        }
        let name = String::from_utf8_lossy(element.local_name().as_ref()).into_owned();
        let parent = self.stack.last().map(String::as_str);
        match (name.as_str(), parent) {
            ("dependencies", Some("analysis")) => self.declare_scope(),
            ("dependency", Some("dependencies")) => {
                self.dependency = Some(Dependency {
                    is_virtual: util::xml_attribute(element, "isVirtual").is_some_and(|v| v.trim() == "true"),
                    ..Dependency::default()
                });
            }
            ("vulnerability" | "suppressedVulnerability", Some("vulnerabilities" | "suppressedVulnerabilities"))
                if self.dependency.is_some() =>
            {
                self.vulnerability = Some(Vulnerability {
                    suppressed: name == "suppressedVulnerability",
                    source: util::xml_attribute(element, "source").and_then(|s| util::non_empty(Some(&s))),
                    ..Vulnerability::default()
                });
            }
            ("evidence", _) if self.dependency.is_some() => {
                self.evidence = Some(Evidence {
                    kind: util::xml_attribute(element, "type")
                        .unwrap_or_default()
                        .to_ascii_lowercase(),
                    confidence: confidence(util::xml_attribute(element, "confidence").as_deref()),
                    value: None,
                });
            }
            _ => {}
        }
        let related = self.stack.iter().any(|open| open == "relatedDependency");
        if name == "identifier"
            && !related
            && let Some(dependency) = &mut self.dependency
        {
            // Schema 1.x: `<identifier type="maven"><name>group:artifact:version</name>`.
            let maven = util::xml_attribute(element, "type").is_some_and(|kind| kind.eq_ignore_ascii_case("maven"));
            if maven && dependency.maven.is_none() {
                dependency.maven = Some(String::new());
            }
        }
        self.stack.push(name);
        self.text.clear();
        Ok(())
    }

    fn close(&mut self) -> Result<(), String> {
        let text = util::non_empty(Some(&self.text));
        self.text.clear();
        let Some(name) = self.stack.pop() else {
            return Ok(());
        };
        let parent = self.stack.last().cloned();
        let parent = parent.as_deref();

        if let Some(vulnerability) = &mut self.vulnerability {
            let done = matches!(name.as_str(), "vulnerability" | "suppressedVulnerability")
                && matches!(parent, Some("vulnerabilities" | "suppressedVulnerabilities"));
            if !done {
                if let Some(text) = text {
                    vulnerability_field(vulnerability, &name, parent, text);
                }
            } else if let (Some(vulnerability), Some(dependency)) = (self.vulnerability.take(), &mut self.dependency) {
                dependency.vulnerabilities.push(vulnerability);
            }
            return Ok(());
        }

        if let Some(evidence) = &mut self.evidence {
            if name != "evidence" {
                if name == "value" && parent == Some("evidence") {
                    evidence.value = text;
                }
            } else if let (Some(evidence), Some(dependency)) = (self.evidence.take(), &mut self.dependency) {
                dependency.add_evidence(evidence);
            }
            return Ok(());
        }

        if let Some(dependency) = &mut self.dependency {
            if name == "dependency" && parent == Some("dependencies") {
                if let Some(dependency) = self.dependency.take() {
                    self.send(dependency)?;
                }
            } else if let Some(text) = text {
                // A related dependency (the same library at another path)
                // has identifiers of its own, which name no component here.
                let related = self.stack.iter().any(|open| open == "relatedDependency");
                if !related || name == "filePath" {
                    dependency_field(dependency, &name, parent, text);
                }
            }
            return Ok(());
        }

        if parent == Some("projectInfo") {
            match name.as_str() {
                "name" => self.project.name = text,
                "groupID" => self.project.group_id = text,
                "artifactID" => self.project.artifact_id = text,
                "version" => self.project.version = text,
                _ => {}
            }
        }
        Ok(())
    }

    /// Declares the project's scope and sends its asset, once.
    fn declare_scope(&mut self) {
        if self.scope.is_some() {
            return;
        }
        let project = &self.project;
        let coordinates = match (&project.group_id, &project.artifact_id) {
            (Some(group), Some(artifact)) => Some(format!("{group}:{artifact}")),
            (None, Some(artifact)) => Some(artifact.clone()),
            _ => None,
        };
        let target = coordinates
            .or_else(|| project.name.clone())
            .unwrap_or_else(|| self.default_target.to_string());
        let name = project.name.clone().unwrap_or_else(|| target.clone());
        let mut asset = Asset::new(AssetKind::Repository, &target, name);
        if let Some(version) = &project.version {
            asset.attributes.insert("version".into(), version.clone());
        }
        self.sink.target(TOOL, &target);
        let key = asset.key.clone();
        self.assets.send(self.sink, asset);
        self.scope = Some((key, target));
    }

    /// Sends the findings of a dependency with its component.
    fn send(&mut self, dependency: Dependency) -> Result<(), String> {
        if dependency.vulnerabilities.is_empty() {
            return Ok(());
        }
        self.declare_scope();
        let Some((project, target)) = self.scope.clone() else {
            return Ok(());
        };
        let component = dependency.component();
        self.assets.send_component(self.sink, &project, &component);

        for vulnerability in &dependency.vulnerabilities {
            let finding = finding(vulnerability, &dependency, &component, &project, &target)?;
            self.sink.finding(finding);
        }
        Ok(())
    }
}

fn vulnerability_field(vulnerability: &mut Vulnerability, name: &str, parent: Option<&str>, text: String) {
    match (parent, name) {
        (Some("vulnerability" | "suppressedVulnerability"), field) => match field {
            "name" => vulnerability.name = Some(text),
            "severity" => vulnerability.severity = Some(text),
            "description" => vulnerability.description = Some(text),
            "notes" => vulnerability.notes = Some(text),
            "cwe" => vulnerability.cwes.push(text),
            // Schema 1.x writes the CVSS v2 metrics as children of the
            // vulnerability: `cvssScore`, `cvssAccessVector`, ...
            metric if metric.starts_with("cvss") => {
                let metric = metric.trim_start_matches("cvss");
                let mut chars = metric.chars();
                let metric = match chars.next() {
                    Some(first) => format!("{}{}", first.to_ascii_lowercase(), chars.as_str()),
                    None => return,
                };
                vulnerability.cvss_v2.push((metric, text));
            }
            _ => {}
        },
        (Some("cvssV2"), metric) => vulnerability.cvss_v2.push((metric.to_string(), text)),
        (Some("cvssV3"), metric) => vulnerability.cvss_v3.push((metric.to_string(), text)),
        (Some("cvssV4"), metric) => vulnerability.cvss_v4.push((metric.to_string(), text)),
        (Some("cwes"), "cwe") => vulnerability.cwes.push(text),
        (Some("reference"), "url") => vulnerability.references.push(text),
        _ => {}
    }
}

fn dependency_field(dependency: &mut Dependency, name: &str, parent: Option<&str>, text: String) {
    match (parent, name) {
        (Some("dependency"), "fileName") => dependency.file_name = Some(text),
        (Some("dependency"), "filePath") => dependency.file_path = Some(text),
        (Some("dependency"), "sha1") => dependency.sha1 = Some(text),
        (Some("package"), "id") if dependency.purl.is_none() && text.starts_with("pkg:") => {
            dependency.purl = Some(text);
        }
        // Only the `<identifier type="maven">` that `open` marked, and
        // only a `group:artifact:version` name.
        (Some("identifier"), "name") if dependency.maven.as_deref() == Some("") && text.matches(':').count() >= 2 => {
            dependency.maven = Some(text);
        }
        (Some("relatedDependency"), "filePath") => dependency.related_paths.push(text),
        (Some("projectReferences"), "projectReference") => dependency.project_references.push(text),
        _ => {}
    }
}

impl Dependency {
    fn add_evidence(&mut self, evidence: Evidence) {
        let Some(value) = evidence.value else {
            return;
        };
        let slot = match evidence.kind.as_str() {
            "product" => &mut self.product,
            "version" => &mut self.version,
            _ => return,
        };
        if slot.as_ref().is_none_or(|(best, _)| evidence.confidence > *best) {
            *slot = Some((evidence.confidence, value));
        }
    }

    /// Resolves the component (see the module documentation for the order).
    fn component(&self) -> Component {
        if let Some(purl) = self.purl.as_deref().and_then(|text| text.parse::<Purl>().ok()) {
            let name = match (purl.ty(), purl.namespace()) {
                ("maven", Some(namespace)) => format!("{namespace}:{}", purl.name()),
                (_, Some(namespace)) => format!("{namespace}/{}", purl.name()),
                (_, None) => purl.name().to_string(),
            };
            return Component {
                name,
                version: purl.version().map(str::to_string),
                ecosystem: Some(purl.ty().to_string()),
                purl: Some(purl),
            };
        }
        if let Some(maven) = self.maven.as_deref().filter(|text| !text.is_empty()) {
            let mut parts = maven.rsplitn(2, ':');
            let version = parts.next().unwrap_or_default();
            if let Some(name) = parts.next().filter(|name| name.contains(':')) {
                let purl = format!("pkg:maven/{}@{version}", name.replacen(':', "/", 1))
                    .parse()
                    .ok();
                return Component {
                    name: name.to_string(),
                    version: util::non_empty(Some(version)),
                    purl,
                    ecosystem: Some("maven".into()),
                };
            }
        }
        if let Some((_, product)) = &self.product {
            return Component {
                name: product.clone(),
                version: self.version.as_ref().map(|(_, version)| version.clone()),
                purl: None,
                ecosystem: None,
            };
        }
        let file = self.file_name.as_deref().unwrap_or("unknown");
        // `adapter.ear: dom4j-2.1.1.jar` names a library inside an archive.
        let file = file.rsplit(": ").next().unwrap_or(file).trim();
        Component {
            name: file.to_string(),
            version: None,
            purl: None,
            ecosystem: None,
        }
    }
}

/// Maps a CVSS metric value, written as a word (`NETWORK`) or its letter
/// (`N`), to the letter of the vector. Returns `None` for an unknown value.
fn metric_letter(value: &str, words: &[(&str, char)]) -> Option<char> {
    let value = value.trim().to_ascii_uppercase();
    if value.len() == 1 {
        let letter = value.chars().next()?;
        return words.iter().any(|(_, known)| *known == letter).then_some(letter);
    }
    words.iter().find(|(word, _)| *word == value).map(|(_, letter)| *letter)
}

fn metric<'m>(metrics: &'m Metrics, names: &[&str]) -> Option<&'m str> {
    metrics
        .iter()
        .find(|(name, _)| names.iter().any(|wanted| name.eq_ignore_ascii_case(wanted)))
        .map(|(_, value)| value.as_str())
}

/// Builds a v2 vector from its metrics, or `None` where one is missing.
fn v2_vector(metrics: &Metrics) -> Option<String> {
    let impact = [("NONE", 'N'), ("PARTIAL", 'P'), ("COMPLETE", 'C')];
    let parts = [
        (
            "AV",
            &["accessVector"][..],
            &[("NETWORK", 'N'), ("ADJACENT_NETWORK", 'A'), ("LOCAL", 'L')][..],
        ),
        (
            "AC",
            &["accessComplexity"],
            &[("LOW", 'L'), ("MEDIUM", 'M'), ("HIGH", 'H')],
        ),
        (
            "Au",
            &["authenticationr", "authentication"],
            &[
                ("NONE", 'N'),
                ("SINGLE", 'S'),
                ("MULTIPLE", 'M'),
                ("SINGLE_INSTANCE", 'S'),
                ("MULTIPLE_INSTANCES", 'M'),
            ],
        ),
        ("C", &["confidentialImpact", "confidentialityImpact"], &impact),
        ("I", &["integrityImpact"], &impact),
        ("A", &["availabilityImpact"], &impact),
    ];
    let mut vector = Vec::new();
    for (key, names, words) in parts {
        let letter = metric_letter(metric(metrics, names)?, words)?;
        vector.push(format!("{key}:{letter}"));
    }
    Some(vector.join("/"))
}

/// Builds a v3 vector from its metrics with the prefix of its version
/// (`CVSS:3.1/` where none is given), or `None` where one is missing.
fn v3_vector(metrics: &Metrics) -> Option<String> {
    let impact = [("NONE", 'N'), ("LOW", 'L'), ("HIGH", 'H')];
    let parts = [
        (
            "AV",
            "attackVector",
            &[
                ("NETWORK", 'N'),
                ("ADJACENT_NETWORK", 'A'),
                ("ADJACENT", 'A'),
                ("LOCAL", 'L'),
                ("PHYSICAL", 'P'),
            ][..],
        ),
        ("AC", "attackComplexity", &[("LOW", 'L'), ("HIGH", 'H')]),
        ("PR", "privilegesRequired", &impact),
        ("UI", "userInteraction", &[("NONE", 'N'), ("REQUIRED", 'R')]),
        ("S", "scope", &[("UNCHANGED", 'U'), ("CHANGED", 'C')]),
        ("C", "confidentialityImpact", &impact),
        ("I", "integrityImpact", &impact),
        ("A", "availabilityImpact", &impact),
    ];
    let mut vector = Vec::new();
    for (key, name, words) in parts {
        let letter = metric_letter(metric(metrics, &[name])?, words)?;
        vector.push(format!("{key}:{letter}"));
    }
    let version = match metric(metrics, &["version"]).map(str::trim) {
        Some("3.0") => "3.0",
        _ => "3.1",
    };
    Some(format!("CVSS:{version}/{}", vector.join("/")))
}

/// Returns the id a vulnerability name gives, where it is one: a CVE, a
/// GHSA, or another id with a letter prefix (`sonatype-2021-0001`). A bare
/// number (an NPM advisory) or a CWE name returns `None`.
fn vulnerability_id(name: &str) -> Option<&str> {
    let name = name.trim();
    let prefixed = name.starts_with(|c: char| c.is_ascii_alphabetic()) && name.contains('-');
    let cwe = name.to_ascii_uppercase().starts_with("CWE-");
    (prefixed && !cwe && !name.contains(char::is_whitespace)).then_some(name)
}

/// Returns the CWE at the start of a text (`CWE-400: Uncontrolled ...`,
/// `CWE-79 Improper ...`), where it is a valid one.
fn leading_cwe(text: &str) -> Option<&str> {
    let text = text.trim();
    if !text.to_ascii_uppercase().starts_with("CWE-") {
        return None;
    }
    let end = text[4..]
        .find(|c: char| !c.is_ascii_digit())
        .map_or(text.len(), |index| index + 4);
    let number = &text[4..end];
    number
        .parse::<u32>()
        .ok()
        .filter(|number| *number > 0)
        .map(|_| &text[..end])
}

fn finding(
    vulnerability: &Vulnerability,
    dependency: &Dependency,
    component: &Component,
    project: &AssetKey,
    target: &str,
) -> Result<Finding, String> {
    let Some(rule_id) = vulnerability.name.clone() else {
        let file = dependency.file_name.as_deref().unwrap_or("unnamed");
        return Err(format!("a vulnerability of dependency {file} has no <name>"));
    };
    let title = match &component.version {
        Some(version) => format!("{rule_id} in {} {version}", component.name),
        None => format!("{rule_id} in {}", component.name),
    };
    let mut finding = Finding::new(
        TOOL,
        &rule_id,
        FindingKind::Vulnerability,
        title,
        Severity::Info,
        project.clone(),
    );
    if let Some(id) = vulnerability_id(&rule_id) {
        util::add_vulnerability_id(&mut finding, id);
    }
    for cwe in vulnerability.cwes.iter().map(String::as_str).chain([rule_id.as_str()]) {
        if let Some(cwe) = leading_cwe(cwe) {
            util::add_cwe(&mut finding, cwe);
        }
    }

    let vector_string = |metrics: &Metrics| metric(metrics, &["vectorString", "vector"]).map(str::to_string);
    let v2 = vector_string(&vulnerability.cvss_v2).or_else(|| v2_vector(&vulnerability.cvss_v2));
    let v3 = vector_string(&vulnerability.cvss_v3)
        .map(|vector| report_shared::prefixed_vector(&vector, metric(&vulnerability.cvss_v3, &["version"])))
        .or_else(|| v3_vector(&vulnerability.cvss_v3));
    let v4 = vector_string(&vulnerability.cvss_v4).map(|vector| report_shared::prefixed_vector(&vector, Some("4.0")));
    for vector in [v2, v3, v4].into_iter().flatten() {
        util::add_cvss(&mut finding, &vector);
    }
    let scores = [
        ("cvss_v2_score", metric(&vulnerability.cvss_v2, &["score"])),
        ("cvss_v3_score", metric(&vulnerability.cvss_v3, &["baseScore"])),
    ];
    for (name, score) in scores {
        if let Some(score) = score.and_then(|score| score.trim().parse::<f64>().ok()) {
            finding.attributes.insert(name.to_string(), score.to_string());
        }
    }
    finding.severity = util::severity_or_cvss(
        report_shared::severity_word(vulnerability.severity.as_deref()),
        &finding,
    );
    if finding.cvss.is_empty() && report_shared::severity_word(vulnerability.severity.as_deref()).is_none() {
        let best = scores
            .iter()
            .filter_map(|(_, score)| score.and_then(|score| score.trim().parse::<f64>().ok()))
            .max_by(f64::total_cmp);
        finding.severity = best.map_or(Severity::Info, Severity::from_cvss_score);
    }

    finding.description = vulnerability.description.clone();
    for reference in &vulnerability.references {
        if !finding.references.contains(reference) {
            finding.references.push(reference.clone());
        }
    }
    if vulnerability.suppressed {
        finding.source_status = Some(SourceStatus::Suppressed);
    }
    finding.location.path = dependency.file_path.clone();
    finding.component = Some(component.clone());
    finding.target = Some(target.to_string());

    let attributes = [
        ("source", vulnerability.source.clone()),
        ("notes", vulnerability.notes.clone()),
        ("file_name", dependency.file_name.clone()),
        ("sha1", dependency.sha1.clone()),
        ("virtual", dependency.is_virtual.then(|| "true".to_string())),
        ("related_paths", Some(dependency.related_paths.join("\n"))),
        ("project_references", Some(dependency.project_references.join("\n"))),
    ];
    for (name, value) in attributes {
        if let Some(value) = util::non_empty(value.as_deref()) {
            finding.attributes.insert(name.to_string(), value);
        }
    }
    Ok(finding)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(pairs: &[(&str, &str)]) -> Metrics {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn v2_vector_from_words() {
        let words = metrics(&[
            ("score", "7.5"),
            ("accessVector", "NETWORK"),
            ("accessComplexity", "LOW"),
            ("authenticationr", "NONE"),
            ("confidentialImpact", "PARTIAL"),
            ("integrityImpact", "PARTIAL"),
            ("availabilityImpact", "COMPLETE"),
        ]);
        assert_eq!(v2_vector(&words).as_deref(), Some("AV:N/AC:L/Au:N/C:P/I:P/A:C"));
        assert_eq!(v2_vector(&metrics(&[("accessVector", "NETWORK")])), None);
    }

    #[test]
    fn v3_vector_from_letters_and_words() {
        let letters = metrics(&[
            ("attackVector", "N"),
            ("attackComplexity", "L"),
            ("privilegesRequired", "N"),
            ("userInteraction", "N"),
            ("scope", "U"),
            ("confidentialityImpact", "N"),
            ("integrityImpact", "H"),
            ("availabilityImpact", "N"),
        ]);
        assert_eq!(
            v3_vector(&letters).as_deref(),
            Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:N")
        );
        let mut words = metrics(&[
            ("attackVector", "ADJACENT_NETWORK"),
            ("attackComplexity", "HIGH"),
            ("privilegesRequired", "LOW"),
            ("userInteraction", "REQUIRED"),
            ("scope", "CHANGED"),
            ("confidentialityImpact", "HIGH"),
            ("integrityImpact", "LOW"),
            ("availabilityImpact", "NONE"),
        ]);
        words.push(("version".into(), "3.0".into()));
        assert_eq!(
            v3_vector(&words).as_deref(),
            Some("CVSS:3.0/AV:A/AC:H/PR:L/UI:R/S:C/C:H/I:L/A:N")
        );
        words[0].1 = "SPACE".into();
        assert_eq!(v3_vector(&words), None, "an unknown value gives no vector");
    }

    #[test]
    fn names_that_are_ids() {
        assert_eq!(vulnerability_id("CVE-2020-7608"), Some("CVE-2020-7608"));
        assert_eq!(vulnerability_id("sonatype-2021-0001"), Some("sonatype-2021-0001"));
        assert_eq!(vulnerability_id("1500"), None);
        assert_eq!(vulnerability_id("CWE-400: Uncontrolled Resource Consumption"), None);
    }

    #[test]
    fn cwes_at_text_start() {
        assert_eq!(leading_cwe("CWE-400: Uncontrolled"), Some("CWE-400"));
        assert_eq!(leading_cwe("CWE-79 Improper Neutralization"), Some("CWE-79"));
        assert_eq!(leading_cwe("CWE-00 Bad Vulnerability"), None);
        assert_eq!(leading_cwe("NVD-CWE-noinfo"), None);
    }

    #[test]
    fn schema_versions() {
        assert_eq!(
            schema_version("https://jeremylong.github.io/DependencyCheck/dependency-check.2.5.xsd"),
            Some("2.5")
        );
        assert_eq!(schema_version("urn:other"), None);
    }
}
