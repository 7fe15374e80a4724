//! CycloneDX JSON documents: software bills of materials and the
//! vulnerabilities that scanners (Trivy, Grype, Snyk, Dependency-Track)
//! report in them.
//!
//! # Reads
//!
//! CycloneDX JSON with `bomFormat` `CycloneDX` and `specVersion` 1.2 to
//! 1.7: `metadata.tools` (an array up to 1.4, `{components, services}`
//! from 1.5), `metadata.component`, `components` (nested ones too) and
//! `vulnerabilities` (1.4 and later). Another `bomFormat`, or a
//! `specVersion` outside 1.2 to 1.7, is rejected with the value found.
//! CycloneDX XML is read by another parser.
//!
//! # Field mapping
//!
//! The subject asset is `metadata.component`: `container` is a
//! [`AssetKind::ContainerImage`], `application` a [`AssetKind::Repository`]
//! (a scanned source tree), `library` and `framework` a
//! [`AssetKind::Component`], other types [`AssetKind::Other`]. Each entry
//! of `components` is a [`AssetKind::Component`] asset keyed by its purl
//! (else `name@version`), which its parent (the subject, or the component
//! that nests it) `Contains`.
//!
//! One finding per vulnerability and `affects[].ref`; the ref is resolved
//! to a component through `bom-ref`. A vulnerability without `affects`, or
//! whose ref names no component, gives one finding on the subject without
//! a component.
//!
//! | report | finding |
//! | --- | --- |
//! | `metadata.tools` first name (CycloneDX's own generators and no tools: `cyclonedx`) | `tool` |
//! | `id` | `rule_id`, `vulnerability_ids` |
//! | `references[].id` | `vulnerability_ids` |
//! | `id` and the component's name and version | `title` (`CVE-2021-44228 in log4j-core 2.13.2`) |
//! | highest `ratings[].severity`, else the highest CVSS vector or score | `severity` |
//! | `ratings[].vector` by `method` (`CVSSv2`, `CVSSv3`, `CVSSv31`, `CVSSv4`; prefix added when missing) | `cvss` |
//! | `cwes` | `cwes` |
//! | `description`, `detail` | `description` |
//! | `recommendation`; `affects[].versions[]` with status `unaffected` | `fix.description`; `fix.fixed_versions` |
//! | `source.url`, `references[].source.url`, `advisories[].url` | `references` |
//! | `analysis.state` | `source_status` (see below) |
//! | `analysis.justification`, `analysis.response`, `analysis.detail`, `source.name` | `attributes` |
//!
//! `analysis.state`: `not_affected` NotAffected, `resolved` and
//! `resolved_with_pedigree` Fixed, `exploitable` Affected, `in_triage`
//! UnderInvestigation, `false_positive` FalsePositive.
//!
//! ## VEX
//!
//! A vulnerability with an `analysis.state` whose `affects[].ref` names no
//! component of the document is a VEX statement about another product:
//! the subject (`metadata.component` by its `bom-ref`), a BOM-link to a
//! component of another BOM (`urn:cdx:serial/version#ref`, a purl where
//! the fragment is one), or a bare purl. Those refs give one
//! [`ctem_model::VexStatement`] (sent with [`Sink::vex`]) instead of
//! findings; refs to components of the document still give findings. Each
//! `affects[].versions[]` entry is one product (a `range` is kept as the
//! product's `version_range`). The statement maps the state as above
//! (`false_positive` is NotAffected with the justification
//! `false_positive`), maps `analysis.justification` to the OpenVEX words,
//! takes `analysis.detail` as the impact statement (NotAffected), the
//! action statement (Affected, unless there is a `recommendation`) or a
//! status note, and is dated by `analysis.lastUpdated`, `firstIssued`, the
//! vulnerability's `updated` or `metadata.timestamp`. Its source is the
//! file, `serialNumber` and the supplier, manufacturer or first author.
//!
//! # Scope target
//!
//! The subject's `group/name` (or `name`), without its version, so that a
//! newer SBOM of the same application covers the same scope; without a
//! `metadata.component`, [`ParseContext::default_target`]. One scope, with
//! the tool above. A VEX document (VEX statements only: no findings and no
//! components) declares no scope and sends no subject asset, because it is
//! no scan and must close no finding.
//!
//! # Fingerprint
//!
//! Tool, vulnerability id, the subject asset, and the component's purl (or
//! name and version). No path or line.
//!
//! # Not read yet
//!
//! `dependencies` (the dependency graph), `services`, `compositions`,
//! `formulation`, licenses, hashes, `metadata.component.components`,
//! vulnerability `tools` and `credits`.
//!
//! # Memory
//!
//! Components and vulnerabilities stream: each component is sent as an
//! asset when it is read. The subject's asset and scope wait for the first
//! component or finding (or the end of the document). The parser keeps a map from `bom-ref` to each
//! component's name, version, purl and asset key, which `affects` needs,
//! so memory grows with the number of components (not with their
//! licenses, hashes or properties). `components` that come before
//! `metadata`, and `vulnerabilities` that come before `components`, are
//! held until the document ends (the specification's order has neither).
//!
//! # Reference
//!
//! <https://cyclonedx.org/docs/1.6/json/> and
//! <https://cyclonedx.org/docs/1.7/json/>

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::io::BufRead;

use ctem_model::{
    Asset, AssetKey, AssetKind, Component, Finding, FindingKind, Purl, Relationship, RelationshipKind, Severity,
    SourceStatus, VexProduct, VexSource,
};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::formats::vex_shared::{self, AffectedVersion as VexVersion, CycloneDxAnalysis, CycloneDxSubject};
use crate::util;
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink};

const FORMAT_ID: &str = "cyclonedx-json";
const DEFAULT_TOOL: &str = "cyclonedx";

/// The CycloneDX JSON parser.
pub struct CycloneDxJson;

impl Parser for CycloneDxJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "CycloneDX JSON",
            tool: "any CycloneDX producer (Trivy, Grype, Syft, cdxgen, Snyk...)",
            versions: "CycloneDX 1.2 to 1.7",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if !head.starts_with(b"{") {
            return Detection::No;
        }
        if util::contains(head, b"\"bomFormat\"") && util::contains(head, b"\"CycloneDX\"") {
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
        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        let mut state = BomState {
            context,
            sink,
            subject: None,
            components: HashMap::new(),
            assets: BTreeSet::new(),
            document: VexDocument::default(),
            pending_subject: None,
            components_seen: false,
            findings_sent: 0,
            statements_sent: 0,
        };
        deserializer
            .deserialize_map(BomVisitor { state: &mut state })
            .and_then(|()| deserializer.end())
            .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))
    }
}

/// The asset that the document describes, and the scope it covers.
struct Subject {
    tool: String,
    target: String,
    key: AssetKey,
}

/// The facts about a component that resolving `affects` needs.
struct KnownComponent {
    name: String,
    version: Option<String>,
    purl: Option<Purl>,
}

/// State of one document's parse.
struct BomState<'a, 'c> {
    context: &'a ParseContext<'c>,
    sink: &'a mut dyn Sink,
    /// Set once `metadata` has been read (or the document ended without it).
    subject: Option<Subject>,
    /// Components by `bom-ref`.
    components: HashMap<String, KnownComponent>,
    /// Keys of the component assets already sent.
    assets: BTreeSet<AssetKey>,
    /// What VEX statements take from the document.
    document: VexDocument,
    /// The subject's asset, until it is sent with the scope (see
    /// [`BomState::declare_subject`]).
    pending_subject: Option<Asset>,
    components_seen: bool,
    findings_sent: usize,
    statements_sent: usize,
}

/// The parts of a document that its VEX statements take.
#[derive(Debug, Default)]
struct VexDocument {
    serial_number: Option<String>,
    author: Option<String>,
    timestamp: Option<String>,
    subject: Option<CycloneDxSubject>,
}

/// Reads the root object, checking the format and version first.
struct BomVisitor<'s, 'a, 'c> {
    state: &'s mut BomState<'a, 'c>,
}

impl<'de> Visitor<'de> for BomVisitor<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a CycloneDX JSON document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut format: Option<String> = None;
        let mut spec_version: Option<String> = None;
        let mut held_components: Vec<BomComponent> = Vec::new();
        let mut held_vulnerabilities: Vec<Vulnerability> = Vec::new();
        let mut components_done = false;

        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "bomFormat" => {
                    let value = map.next_value_seed(LooseTextSeed)?.unwrap_or_default();
                    check_format(&value).map_err(de::Error::custom)?;
                    format = Some(value);
                }
                "specVersion" => {
                    let value = map.next_value_seed(LooseTextSeed)?.unwrap_or_default();
                    check_spec_version(&value).map_err(de::Error::custom)?;
                    spec_version = Some(value);
                }
                "metadata" => {
                    let metadata: Metadata = map.next_value()?;
                    self.state.start(Some(metadata));
                }
                "serialNumber" => {
                    self.state.document.serial_number = util::non_empty(map.next_value_seed(LooseTextSeed)?.as_deref());
                }
                "components" => {
                    map.next_value_seed(ComponentsSeed {
                        state: self.state,
                        held: &mut held_components,
                    })?;
                    components_done = true;
                }
                "vulnerabilities" => {
                    map.next_value_seed(VulnerabilitiesSeed {
                        state: self.state,
                        ready: components_done,
                        held: &mut held_vulnerabilities,
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        if format.is_none() {
            return Err(de::Error::custom(
                "missing \"bomFormat\": expected a CycloneDX JSON document with \"bomFormat\": \"CycloneDX\"",
            ));
        }
        if spec_version.is_none() {
            return Err(de::Error::custom(
                "missing \"specVersion\": expected a CycloneDX specification version from 1.2 to 1.7",
            ));
        }

        if self.state.subject.is_none() {
            self.state.start(None);
        }
        for component in held_components {
            self.state.add_component(component, None);
        }
        for vulnerability in held_vulnerabilities {
            self.state.emit_vulnerability(vulnerability);
        }

        // A VEX document (statements only, no components of its own) is no
        // scan, so it declares no scope and no subject asset.
        let vex_only = self.state.statements_sent > 0 && self.state.findings_sent == 0 && !self.state.components_seen;
        if !vex_only {
            self.state.declare_subject();
        }
        Ok(())
    }
}

/// Rejects a `bomFormat` other than CycloneDX.
fn check_format(value: &str) -> Result<(), String> {
    if value.trim() == "CycloneDX" {
        return Ok(());
    }
    Err(format!("unsupported bomFormat {value:?}: expected \"CycloneDX\""))
}

/// Rejects a `specVersion` outside 1.2 to 1.7, the versions with a JSON
/// format that this parser reads.
fn check_spec_version(value: &str) -> Result<(), String> {
    let minor = value
        .trim()
        .strip_prefix("1.")
        .and_then(|minor| minor.parse::<u32>().ok());
    match minor {
        Some(2..=7) => Ok(()),
        _ => Err(format!(
            "unsupported CycloneDX specVersion {value:?}: this parser reads CycloneDX JSON 1.2 to 1.7"
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

/// Streams the `components` array.
struct ComponentsSeed<'s, 'a, 'c, 'h> {
    state: &'s mut BomState<'a, 'c>,
    held: &'h mut Vec<BomComponent>,
}

impl<'de> DeserializeSeed<'de> for ComponentsSeed<'_, '_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ComponentsSeed<'_, '_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an array of components")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(component) = seq.next_element::<BomComponent>()? {
            if self.state.subject.is_some() {
                self.state.add_component(component, None);
            } else {
                self.held.push(component);
            }
        }
        Ok(())
    }
}

/// Streams the `vulnerabilities` array.
struct VulnerabilitiesSeed<'s, 'a, 'c, 'h> {
    state: &'s mut BomState<'a, 'c>,
    /// True when the components (and so every `bom-ref`) have been read.
    ready: bool,
    held: &'h mut Vec<Vulnerability>,
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
        while let Some(vulnerability) = seq.next_element::<Vulnerability>()? {
            if self.ready && self.state.subject.is_some() {
                self.state.emit_vulnerability(vulnerability);
            } else {
                self.held.push(vulnerability);
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// The lean shapes of a document's parts.
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Metadata {
    tools: Option<Tools>,
    component: Option<BomComponent>,
    #[serde(deserialize_with = "util::loose_text")]
    timestamp: Option<String>,
    supplier: Option<Organization>,
    /// `manufacture` until 1.5, `manufacturer` from 1.6.
    manufacture: Option<Organization>,
    manufacturer: Option<Organization>,
    authors: Vec<Organization>,
}

/// `metadata.tools`: an array of tools (1.2 to 1.4) or an object of
/// components and services (1.5 and later).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Tools {
    Legacy(Vec<ToolEntry>),
    Current {
        #[serde(default)]
        components: Vec<ToolEntry>,
        #[serde(default)]
        services: Vec<ToolEntry>,
    },
    /// Any other shape, which names no tool.
    Other(IgnoredAny),
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ToolEntry {
    #[serde(deserialize_with = "util::loose_text")]
    vendor: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    group: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    name: Option<String>,
    manufacturer: Option<Organization>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Organization {
    #[serde(deserialize_with = "util::loose_text")]
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BomComponent {
    #[serde(rename = "bom-ref", deserialize_with = "util::loose_text")]
    bom_ref: Option<String>,
    #[serde(rename = "type", deserialize_with = "util::loose_text")]
    kind: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    group: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    name: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    version: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    purl: Option<String>,
    components: Vec<BomComponent>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Vulnerability {
    #[serde(deserialize_with = "util::loose_text")]
    id: Option<String>,
    source: Option<Source>,
    references: Vec<VulnerabilityReference>,
    ratings: Vec<Rating>,
    cwes: Vec<serde_json::Value>,
    #[serde(deserialize_with = "util::loose_text")]
    description: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    detail: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    recommendation: Option<String>,
    advisories: Vec<Advisory>,
    analysis: Option<Analysis>,
    affects: Vec<Affect>,
    #[serde(deserialize_with = "util::loose_text")]
    updated: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Source {
    #[serde(deserialize_with = "util::loose_text")]
    name: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct VulnerabilityReference {
    #[serde(deserialize_with = "util::loose_text")]
    id: Option<String>,
    source: Option<Source>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Rating {
    #[serde(deserialize_with = "util::loose_text")]
    score: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    severity: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    method: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    vector: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Advisory {
    #[serde(deserialize_with = "util::loose_text")]
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Analysis {
    #[serde(deserialize_with = "util::loose_text")]
    state: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    justification: Option<String>,
    response: Vec<serde_json::Value>,
    #[serde(deserialize_with = "util::loose_text")]
    detail: Option<String>,
    #[serde(rename = "firstIssued", deserialize_with = "util::loose_text")]
    first_issued: Option<String>,
    #[serde(rename = "lastUpdated", deserialize_with = "util::loose_text")]
    last_updated: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Affect {
    #[serde(rename = "ref", deserialize_with = "util::loose_text")]
    reference: Option<String>,
    versions: Vec<AffectedVersion>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AffectedVersion {
    #[serde(deserialize_with = "util::loose_text")]
    version: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    range: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    status: Option<String>,
}

// ---------------------------------------------------------------------------
// Turning the parts into records.
// ---------------------------------------------------------------------------

impl BomState<'_, '_> {
    /// Sets the subject from the metadata (or the default target without
    /// one) and declares its asset and scope.
    fn start(&mut self, metadata: Option<Metadata>) {
        let metadata = metadata.unwrap_or_default();
        let tool = tool_name(metadata.tools.as_ref());
        let subject_component = metadata
            .component
            .filter(|c| util::non_empty(c.name.as_deref()).is_some());

        let (kind, target, asset) = match &subject_component {
            Some(component) => subject_asset(component),
            None => {
                let target = self.context.default_target.to_string();
                (
                    AssetKind::Other,
                    target.clone(),
                    Asset::new(AssetKind::Other, &target, target.clone()),
                )
            }
        };
        let key = AssetKey::new(kind, &target);
        self.document.timestamp = util::non_empty(metadata.timestamp.as_deref());
        self.document.author = [&metadata.supplier, &metadata.manufacturer, &metadata.manufacture]
            .into_iter()
            .flatten()
            .chain(metadata.authors.iter())
            .find_map(|organization| util::non_empty(organization.name.as_deref()));
        self.document.subject = subject_component.as_ref().map(|component| CycloneDxSubject {
            bom_ref: util::non_empty(component.bom_ref.as_deref()),
            name: util::non_empty(component.name.as_deref()).unwrap_or_default(),
            version: util::non_empty(component.version.as_deref()),
            purl: component.purl.as_deref().and_then(|p| p.parse::<Purl>().ok()),
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

    /// Records a component (and those it nests), sends its asset and its
    /// `Contains` relationship from its parent.
    fn add_component(&mut self, component: BomComponent, parent: Option<AssetKey>) {
        let Some(name) = util::non_empty(component.name.as_deref()) else {
            return;
        };
        let version = util::non_empty(component.version.as_deref());
        let purl = component.purl.as_deref().and_then(|p| p.parse::<Purl>().ok());
        let identifier = match (&purl, &version) {
            (Some(purl), _) => purl.to_string(),
            (None, Some(version)) => format!("{name}@{version}"),
            (None, None) => name.clone(),
        };
        let key = AssetKey::new(AssetKind::Component, &identifier);
        self.declare_subject();
        self.components_seen = true;

        if self.assets.insert(key.clone()) {
            let mut asset = Asset::new(AssetKind::Component, &identifier, name.clone());
            if let Some(purl) = &purl {
                asset.add_identifier("purl", purl.to_string());
            }
            let attributes = [
                ("version", version.clone()),
                ("group", util::non_empty(component.group.as_deref())),
                ("type", util::non_empty(component.kind.as_deref())),
            ];
            for (attribute, value) in attributes {
                if let Some(value) = value {
                    asset.attributes.insert(attribute.to_string(), value);
                }
            }
            self.sink.asset(asset);
        }
        let from = parent.or_else(|| self.subject.as_ref().map(|s| s.key.clone()));
        if let Some(from) = from {
            self.sink
                .relationship(Relationship::new(from, RelationshipKind::Contains, key.clone()));
        }

        let known = KnownComponent { name, version, purl };
        if let Some(reference) = util::non_empty(component.bom_ref.as_deref()) {
            self.components.insert(reference, known);
        } else if let Some(purl) = &known.purl {
            // Without a bom-ref, `affects` can only name the purl.
            self.components.insert(purl.to_string(), known);
        }

        for nested in component.components {
            self.add_component(nested, Some(key.clone()));
        }
    }

    /// Sends one finding per affected component of the vulnerability. An
    /// analysed vulnerability whose `affects` name no component of the
    /// document (the subject, a BOM-link, a purl) is a VEX statement about
    /// those products instead.
    fn emit_vulnerability(&mut self, vulnerability: Vulnerability) {
        let Some(subject) = &self.subject else {
            return;
        };
        let Some(id) = util::non_empty(vulnerability.id.as_deref()) else {
            return;
        };
        let template = vulnerability_finding(&id, &vulnerability, subject);
        let analysed = vulnerability
            .analysis
            .as_ref()
            .and_then(|a| a.state.as_deref())
            .is_some_and(|state| vex_shared::cyclonedx_status(state).is_some());

        let mut emitted = 0;
        let mut products: Vec<VexProduct> = Vec::new();
        for affect in &vulnerability.affects {
            let Some(reference) = util::non_empty(affect.reference.as_deref()) else {
                continue;
            };
            let mut finding = template.clone();
            match self.components.get(&reference) {
                Some(known) => {
                    finding.title = match &known.version {
                        Some(version) => format!("{id} in {} {version}", known.name),
                        None => format!("{id} in {}", known.name),
                    };
                    finding.component = Some(Component {
                        name: known.name.clone(),
                        version: known.version.clone(),
                        ecosystem: known.purl.as_ref().map(|p| p.ty().to_string()),
                        purl: known.purl.clone(),
                    });
                }
                None if analysed => {
                    let versions: Vec<VexVersion> = affect
                        .versions
                        .iter()
                        .map(|v| VexVersion {
                            version: v.version.clone(),
                            range: v.range.clone(),
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
    ) -> Option<ctem_model::VexStatement> {
        let analysis = vulnerability.analysis.as_ref()?;
        let timestamps = [
            analysis.last_updated.as_deref(),
            analysis.first_issued.as_deref(),
            vulnerability.updated.as_deref(),
            self.document.timestamp.as_deref(),
        ];
        let input = CycloneDxAnalysis {
            id,
            aliases: vulnerability
                .references
                .iter()
                .filter_map(|r| r.id.as_deref())
                .collect(),
            state: analysis.state.as_deref().unwrap_or_default(),
            justification: analysis.justification.as_deref(),
            responses: analysis.response.iter().filter_map(|r| r.as_str()).collect(),
            detail: analysis.detail.as_deref(),
            recommendation: vulnerability.recommendation.as_deref(),
            timestamps: timestamps.into_iter().flatten().collect(),
        };
        let mut source = VexSource::new(FORMAT_ID, self.context.path);
        source.document_id = self.document.serial_number.clone();
        source.author = self.document.author.clone();
        vex_shared::cyclonedx_statement(&input, products, source)
    }
}

/// Returns the name of the tool that wrote the document: the first tool
/// named in `metadata.tools`, or `cyclonedx` for CycloneDX's own generators
/// and documents that name none.
fn tool_name(tools: Option<&Tools>) -> String {
    let entries: Vec<&ToolEntry> = match tools {
        Some(Tools::Legacy(entries)) => entries.iter().collect(),
        Some(Tools::Current { components, services }) => components.iter().chain(services.iter()).collect(),
        Some(Tools::Other(_)) | None => Vec::new(),
    };
    let Some(tool) = entries
        .into_iter()
        .find(|t| util::non_empty(t.name.as_deref()).is_some())
    else {
        return DEFAULT_TOOL.to_string();
    };
    let makers = [
        tool.vendor.as_deref(),
        tool.group.as_deref(),
        tool.manufacturer.as_ref().and_then(|m| m.name.as_deref()),
    ];
    if makers
        .into_iter()
        .flatten()
        .any(|maker| maker.to_ascii_lowercase().contains("cyclonedx"))
    {
        return DEFAULT_TOOL.to_string();
    }
    let name = tool.name.as_deref().unwrap_or_default().trim().to_lowercase();
    name.split_whitespace().collect::<Vec<_>>().join("-")
}

/// Returns the subject's kind, scope target and asset.
fn subject_asset(component: &BomComponent) -> (AssetKind, String, Asset) {
    let name = component.name.as_deref().unwrap_or_default().trim();
    let target = match util::non_empty(component.group.as_deref()) {
        Some(group) => format!("{group}/{name}"),
        None => name.to_string(),
    };
    let kind = match component.kind.as_deref().map(str::trim) {
        Some("container") => AssetKind::ContainerImage,
        Some("application") => AssetKind::Repository,
        Some("library" | "framework") => AssetKind::Component,
        _ => AssetKind::Other,
    };

    let mut asset = Asset::new(kind, &target, name.to_string());
    let purl = component.purl.as_deref().and_then(|p| p.parse::<Purl>().ok());
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
    if let Some(version) = util::non_empty(component.version.as_deref()) {
        asset.attributes.insert("version".to_string(), version);
    }
    if let Some(kind) = util::non_empty(component.kind.as_deref()) {
        asset.attributes.insert("type".to_string(), kind);
    }
    (kind, target, asset)
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
    for reference in &vulnerability.references {
        if let Some(other) = reference.id.as_deref() {
            util::add_vulnerability_id(&mut finding, other);
        }
    }
    for cwe in &vulnerability.cwes {
        let text = match cwe {
            serde_json::Value::Number(number) => number.to_string(),
            serde_json::Value::String(text) => text.clone(),
            _ => continue,
        };
        util::add_cwe(&mut finding, &text);
    }
    for rating in &vulnerability.ratings {
        if let Some(vector) = normalized_vector(rating) {
            util::add_cvss(&mut finding, &vector);
        }
    }
    finding.severity = severity(&vulnerability.ratings, &finding);

    let texts = [vulnerability.description.as_deref(), vulnerability.detail.as_deref()];
    let texts: Vec<String> = texts.into_iter().filter_map(|t| util::non_empty(t)).collect();
    finding.description = (!texts.is_empty()).then(|| texts.join("\n\n"));
    finding.fix.description = util::non_empty(vulnerability.recommendation.as_deref());
    finding.references = references(vulnerability);

    if let Some(analysis) = &vulnerability.analysis {
        finding.source_status = analysis.state.as_deref().and_then(source_status);
        let responses: Vec<&str> = analysis.response.iter().filter_map(|r| r.as_str()).collect();
        let attributes = [
            ("analysis_state", util::non_empty(analysis.state.as_deref())),
            (
                "analysis_justification",
                util::non_empty(analysis.justification.as_deref()),
            ),
            (
                "analysis_response",
                (!responses.is_empty()).then(|| responses.join(", ")),
            ),
            ("analysis_detail", util::non_empty(analysis.detail.as_deref())),
        ];
        for (name, value) in attributes {
            if let Some(value) = value {
                finding.attributes.insert(name.to_string(), value);
            }
        }
    }
    if let Some(source) = vulnerability
        .source
        .as_ref()
        .and_then(|s| util::non_empty(s.name.as_deref()))
    {
        finding.attributes.insert("source".to_string(), source);
    }
    finding
}

/// Returns a rating's vector with the `CVSS:3.x/` or `CVSS:4.0/` prefix
/// that its method implies when the vector lacks one.
fn normalized_vector(rating: &Rating) -> Option<String> {
    let vector = util::non_empty(rating.vector.as_deref())?;
    if vector.starts_with("CVSS:") || vector.starts_with('(') {
        return Some(vector);
    }
    let prefix = match rating.method.as_deref().map(str::trim) {
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
        .filter_map(|r| r.score.as_deref()?.trim().parse::<f64>().ok())
        .filter(|score| (0.0..=10.0).contains(score))
        .max_by(f64::total_cmp)
        .map(Severity::from_cvss_score)
        .unwrap_or(Severity::Info)
}

/// Returns every URL the vulnerability gives, once each.
fn references(vulnerability: &Vulnerability) -> Vec<String> {
    let sources = std::iter::once(vulnerability.source.as_ref())
        .chain(vulnerability.references.iter().map(|r| r.source.as_ref()))
        .flatten()
        .filter_map(|s| s.url.as_deref());
    let advisories = vulnerability.advisories.iter().filter_map(|a| a.url.as_deref());
    let mut urls: Vec<String> = Vec::new();
    for url in sources.chain(advisories) {
        let url = url.trim();
        if !url.is_empty() && !urls.iter().any(|known| known == url) {
            urls.push(url.to_string());
        }
    }
    urls
}

/// Maps an `analysis.state` to the report's status.
fn source_status(state: &str) -> Option<SourceStatus> {
    match state.trim() {
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
    let versions = affect
        .versions
        .iter()
        .filter(|v| v.status.as_deref().map(str::trim) == Some("unaffected"))
        .filter_map(|v| util::non_empty(v.version.as_deref()));
    let mut unique: Vec<String> = Vec::new();
    for version in versions {
        if !unique.contains(&version) {
            unique.push(version);
        }
    }
    unique
}
