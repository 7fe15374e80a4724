//! Grype JSON reports: `grype <image|dir:path|file:path> -o json`.
//!
//! # Reads
//!
//! The JSON document of Grype 0.7 and later: `matches` (each with
//! `vulnerability`, `relatedVulnerabilities`, `matchDetails` and
//! `artifact`), `source`, `distro` and `descriptor`. The older fields that
//! Grype 0.7 wrote (`links`, `cvssV2`, `cvssV3`, `fixedInVersion`, a
//! `matchDetails` object and CPEs as objects) are read as well.
//!
//! # Field mapping
//!
//! - `vulnerability.id` -> `rule_id` and the first vulnerability id;
//!   `relatedVulnerabilities[].id` (a GHSA's CVE, say) -> more ids.
//! - `vulnerability.severity` -> `severity` (`Negligible` and `Unknown` are
//!   `Info`; a missing severity falls back to the highest CVSS score).
//! - `cvss[].vector` of the vulnerability and of its related
//!   vulnerabilities (and the older `cvssV2`/`cvssV3`) -> `cvss`. A vector
//!   without its `CVSS:3.x/` prefix gets the one its `version` names.
//! - `vulnerability.description`, else the first related description ->
//!   `description`; `dataSource`, `urls` and `links`, then those of the
//!   related vulnerabilities -> `references`.
//! - `fix.versions` when `fix.state` is `fixed` (or the older
//!   `fixedInVersion`) -> `fix.fixed_versions`; `fix.state` `wont-fix` ->
//!   `source_status` `WillNotFix`, `not-fixed` -> `Affected`.
//! - `artifact.name`, `version`, `purl`, `type` -> `component`; the first
//!   `artifact.locations[].path` -> `location.path`.
//! - `vulnerability.epss` (else the related vulnerabilities' `epss`) ->
//!   the attributes `epss` and `epss_percentile`, as the report states
//!   them; `matchDetails[].matcher` and `vulnerability.namespace` -> more
//!   attributes.
//! - Assets: the scanned source and one component per artifact (keyed by
//!   its purl, else `name@version`) that the source contains. An image
//!   source is a container image keyed by `source.target.userInput`, with
//!   `image_id`, `image_digest` and `repo_tag` identifiers and the distro
//!   as `os`. A directory is a repository, and other sources are other
//!   assets.
//!
//! Grype repeats a match when two matchers find it: a repeat of the same
//! vulnerability, artifact and path is dropped. The same vulnerability and
//! package at two paths are two findings.
//!
//! # Scope target
//!
//! `source.target.userInput` for an image, the target path for a
//! directory or file (the purl, CPE or SBOM path for those sources). An
//! empty path or `.` names nothing stable, and a report without `source`
//! (or with the `unknown` source) names nothing, so these use
//! [`ParseContext::default_target`].
//!
//! # Fingerprint
//!
//! The tool `grype`, the vulnerability id, the source asset, the
//! component's purl (else its name and version) and the first location
//! path.
//!
//! # Not read yet
//!
//! `ignoredMatches`, `matchDetails` beyond the matcher name, the artifact's
//! `cpes`, `upstreams` and `metadata`, `advisories`, the `risk` score and
//! the CVSS scores that the report computed (ctem computes them from the
//! vectors).
//!
//! Grype writes `matches` before `source`, so each match is read and
//! normalized on its own, and the normalized findings wait in memory until
//! `source` names their asset. The raw matches are never all in memory.
//!
//! # Reference
//!
//! The JSON document model of Grype, `grype/presenter/models/document.go`
//! and `source.go` in <https://github.com/anchore/grype>.

use std::collections::HashSet;
use std::fmt;
use std::io::BufRead;

use ctem_model::{
    Asset, AssetKey, AssetKind, Component, Finding, FindingKind, Purl, Relationship, RelationshipKind, Severity,
    SourceStatus,
};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "grype-json";
const TOOL: &str = "grype";

/// The Grype JSON parser.
pub struct GrypeJson;

impl Parser for GrypeJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Grype JSON",
            tool: "Grype",
            versions: "Grype 0.7 and later (`-o json`)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        let has = |key: &[u8]| util::contains(head, key);
        if !head.starts_with(b"{") || !has(b"\"matches\"") {
            return Detection::No;
        }
        // Grype writes `descriptor` last, so a large report shows only the
        // shape of its matches in the first 64 KiB.
        let named = has(b"\"descriptor\"") && has(b"\"grype\"");
        let shaped = has(b"\"matchDetails\"") && has(b"\"artifact\"") && has(b"\"vulnerability\"");
        if named || shaped {
            Detection::Certain
        } else if has(b"\"vulnerability\"") && has(b"\"artifact\"") {
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
        let mut emitter = Emitter::new(sink, context.default_target);
        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        ReportSeed { emitter: &mut emitter }
            .deserialize(&mut deserializer)
            .and_then(|()| deserializer.end())
            .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))
    }
}

// ---------------------------------------------------------------------------
// Report records, deserialized leniently: every field may be missing or null.
// ---------------------------------------------------------------------------

/// Deserializes `null` as the default value.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Match {
    vulnerability: Vulnerability,
    #[serde(deserialize_with = "null_as_default")]
    related_vulnerabilities: Vec<RelatedVulnerability>,
    match_details: Option<OneOrMany<MatchDetail>>,
    artifact: Artifact,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Vulnerability {
    id: Option<String>,
    data_source: Option<String>,
    namespace: Option<String>,
    severity: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    urls: Vec<String>,
    /// The references, as Grype 0.7 named them.
    #[serde(deserialize_with = "null_as_default")]
    links: Vec<String>,
    description: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    cvss: Vec<Cvss>,
    #[serde(rename = "cvssV2")]
    cvss_v2: Option<Cvss>,
    #[serde(rename = "cvssV3")]
    cvss_v3: Option<Cvss>,
    fix: Option<Fix>,
    fixed_in_version: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    epss: Vec<Epss>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RelatedVulnerability {
    id: Option<String>,
    data_source: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    urls: Vec<String>,
    description: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    cvss: Vec<Cvss>,
    #[serde(deserialize_with = "null_as_default")]
    epss: Vec<Epss>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Cvss {
    version: Option<String>,
    vector: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Fix {
    #[serde(deserialize_with = "null_as_default")]
    versions: Vec<String>,
    state: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Epss {
    epss: Option<f64>,
    percentile: Option<f64>,
}

/// `matchDetails`: a list in newer reports, one object in Grype 0.7.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    Many(Vec<T>),
    One(T),
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MatchDetail {
    matcher: Option<String>,
    #[serde(rename = "type")]
    match_type: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Artifact {
    name: Option<String>,
    version: Option<String>,
    #[serde(rename = "type")]
    package_type: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    locations: Vec<ArtifactLocation>,
    language: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    licenses: Vec<LicenseEntry>,
    purl: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ArtifactLocation {
    path: Option<String>,
    #[serde(rename = "layerID")]
    layer_id: Option<String>,
}

/// A license: a name in older reports, an object in newer ones.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum LicenseEntry {
    Name(String),
    Object {
        #[serde(default)]
        value: Option<String>,
        #[serde(default, rename = "spdxExpression")]
        spdx_expression: Option<String>,
    },
}

impl LicenseEntry {
    fn name(&self) -> Option<String> {
        match self {
            LicenseEntry::Name(name) => util::non_empty(Some(name)),
            LicenseEntry::Object { value, spdx_expression } => {
                util::non_empty(spdx_expression.as_deref()).or_else(|| util::non_empty(value.as_deref()))
            }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Source {
    #[serde(rename = "type")]
    source_type: Option<String>,
    target: Option<SourceTarget>,
}

/// `source.target`: an object for images, a path for directories and files.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SourceTarget {
    Path(String),
    Image(Box<ImageTarget>),
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ImageTarget {
    user_input: Option<String>,
    #[serde(rename = "imageID")]
    image_id: Option<String>,
    manifest_digest: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    repo_digests: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    tags: Vec<String>,
    /// The scanned path, in newer reports of directories.
    path: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Distro {
    name: Option<String>,
    version: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Descriptor {
    name: Option<String>,
    version: Option<String>,
}

// ---------------------------------------------------------------------------
// Normalizing matches and sending records.
// ---------------------------------------------------------------------------

/// The scanned source, once `source` was read.
struct SourceScope {
    key: AssetKey,
    target: String,
}

/// A finding whose asset and scope target wait for `source`, with the
/// component asset it names.
struct Pending {
    finding: Finding,
    component: Option<Asset>,
}

/// Sends records to the sink, once per asset and relationship.
struct Emitter<'a> {
    sink: &'a mut dyn Sink,
    default_target: &'a str,
    scope: Option<SourceScope>,
    pending: Vec<Pending>,
    assets: HashSet<AssetKey>,
    /// (vulnerability id, artifact name, version, path) of every match sent.
    matches: HashSet<(String, String, String, String)>,
}

impl<'a> Emitter<'a> {
    fn new(sink: &'a mut dyn Sink, default_target: &'a str) -> Emitter<'a> {
        Emitter {
            sink,
            default_target,
            scope: None,
            pending: Vec::new(),
            assets: HashSet::new(),
            matches: HashSet::new(),
        }
    }

    /// Normalizes one match, and sends it or keeps it until `source` is read.
    fn handle(&mut self, record: Match) -> Result<(), String> {
        let Some(id) = util::non_empty(record.vulnerability.id.as_deref()) else {
            return Err("a match has no vulnerability.id".to_string());
        };
        let name = util::non_empty(record.artifact.name.as_deref());
        let version = util::non_empty(record.artifact.version.as_deref());
        let path = record
            .artifact
            .locations
            .iter()
            .find_map(|location| util::non_empty(location.path.as_deref()));
        let identity = (
            id.clone(),
            name.clone().unwrap_or_default(),
            version.clone().unwrap_or_default(),
            path.clone().unwrap_or_default(),
        );
        if !self.matches.insert(identity) {
            return Ok(());
        }

        let (finding, component) = normalize(id, name, version, path, record);
        match &self.scope {
            Some(_) => self.send(finding, component),
            None => self.pending.push(Pending { finding, component }),
        }
        Ok(())
    }

    /// Sets the source's asset and target on a finding and sends it with
    /// its component.
    fn send(&mut self, mut finding: Finding, component: Option<Asset>) {
        let Some(scope) = &self.scope else {
            return;
        };
        finding.asset = scope.key.clone();
        finding.target = Some(scope.target.clone());
        let owner = scope.key.clone();
        if let Some(component) = component {
            let component_key = component.key.clone();
            if self.assets.insert(component_key.clone()) {
                self.sink.asset(component);
                self.sink
                    .relationship(Relationship::new(owner, RelationshipKind::Contains, component_key));
            }
        }
        self.sink.finding(finding);
    }

    /// Declares the scope of the source and sends what waited for it.
    fn set_scope(&mut self, scope: SourceScope) {
        self.sink.target(TOOL, &scope.target);
        self.scope = Some(scope);
        for pending in std::mem::take(&mut self.pending) {
            self.send(pending.finding, pending.component);
        }
    }
}

/// Builds the finding of a match (with a placeholder asset until the
/// source is known) and the asset of its component.
fn normalize(
    id: String,
    name: Option<String>,
    version: Option<String>,
    path: Option<String>,
    record: Match,
) -> (Finding, Option<Asset>) {
    let Match {
        vulnerability,
        related_vulnerabilities: related,
        match_details,
        artifact,
    } = record;

    let title = match (&name, &version) {
        (Some(name), Some(version)) => format!("{id} in {name} {version}"),
        (Some(name), None) => format!("{id} in {name}"),
        _ => id.clone(),
    };
    let placeholder = AssetKey::new(AssetKind::Other, "");
    let mut finding = Finding::new(
        TOOL,
        id.clone(),
        FindingKind::Vulnerability,
        title,
        Severity::Info,
        placeholder,
    );

    util::add_vulnerability_id(&mut finding, &id);
    for other in &related {
        if let Some(other_id) = other.id.as_deref() {
            util::add_vulnerability_id(&mut finding, other_id);
        }
    }

    let old_vectors = [&vulnerability.cvss_v2, &vulnerability.cvss_v3];
    let vectors = vulnerability
        .cvss
        .iter()
        .chain(old_vectors.into_iter().flatten())
        .chain(related.iter().flat_map(|other| other.cvss.iter()));
    for cvss in vectors {
        if let Some(vector) = normalized_vector(cvss) {
            util::add_cvss(&mut finding, &vector);
        }
    }
    let severity = util::non_empty(vulnerability.severity.as_deref());
    finding.severity = util::severity_or_cvss(severity.as_deref(), &finding);

    finding.description = util::non_empty(vulnerability.description.as_deref()).or_else(|| {
        related
            .iter()
            .find_map(|other| util::non_empty(other.description.as_deref()))
    });
    let own = vulnerability
        .data_source
        .iter()
        .chain(&vulnerability.urls)
        .chain(&vulnerability.links);
    let others = related
        .iter()
        .flat_map(|other| other.data_source.iter().chain(&other.urls));
    for reference in own.chain(others) {
        let reference = reference.trim();
        if !reference.is_empty() && !finding.references.iter().any(|r| r == reference) {
            finding.references.push(reference.to_string());
        }
    }

    let state = vulnerability
        .fix
        .as_ref()
        .and_then(|fix| fix.state.as_deref())
        .unwrap_or_default();
    if state == "fixed" {
        let versions = vulnerability.fix.iter().flat_map(|fix| &fix.versions);
        finding.fix.fixed_versions = versions.filter_map(|v| util::non_empty(Some(v))).collect();
    }
    if let Some(fixed) = util::non_empty(vulnerability.fixed_in_version.as_deref()) {
        finding.fix.fixed_versions.push(fixed);
    }
    finding.source_status = match state {
        "wont-fix" => Some(SourceStatus::WillNotFix),
        "not-fixed" => Some(SourceStatus::Affected),
        _ => None,
    };

    finding.location.path = path;
    let layer = artifact
        .locations
        .iter()
        .find_map(|location| util::non_empty(location.layer_id.as_deref()));

    let epss = vulnerability
        .epss
        .iter()
        .chain(related.iter().flat_map(|other| other.epss.iter()))
        .find(|entry| entry.epss.is_some());
    let matchers: Vec<String> = match match_details {
        Some(OneOrMany::Many(details)) => details.into_iter().filter_map(|d| d.matcher.or(d.match_type)).collect(),
        Some(OneOrMany::One(detail)) => detail.matcher.into_iter().collect(),
        None => Vec::new(),
    };
    let mut unique_matchers: Vec<String> = Vec::new();
    for matcher in matchers {
        if !unique_matchers.contains(&matcher) {
            unique_matchers.push(matcher);
        }
    }
    let attributes = [
        ("epss", epss.and_then(|entry| entry.epss).map(|score| score.to_string())),
        (
            "epss_percentile",
            epss.and_then(|entry| entry.percentile).map(|p| p.to_string()),
        ),
        ("namespace", vulnerability.namespace),
        ("matchers", Some(unique_matchers.join(", "))),
        ("fix_state", vulnerability.fix.and_then(|fix| fix.state)),
        ("layer_id", layer),
    ];
    for (attribute, value) in attributes {
        if let Some(value) = util::non_empty(value.as_deref()) {
            finding.attributes.insert(attribute.to_string(), value);
        }
    }

    let Some(name) = name else {
        return (finding, None);
    };
    let purl = artifact.purl.as_deref().and_then(|text| text.parse::<Purl>().ok());
    let component = Component {
        name,
        version,
        purl,
        ecosystem: util::non_empty(artifact.package_type.as_deref()),
    };
    let asset = component_asset(&component, artifact.language.as_deref(), &artifact.licenses);
    finding.component = Some(component);
    (finding, Some(asset))
}

/// Returns the vector with the `CVSS:x.y/` prefix that its `version`
/// names, where the report left it out (Grype writes bare v3 vectors for
/// some sources).
fn normalized_vector(cvss: &Cvss) -> Option<String> {
    let vector = util::non_empty(cvss.vector.as_deref())?;
    if vector.starts_with("CVSS:") {
        return Some(vector);
    }
    match cvss.version.as_deref().map(str::trim) {
        Some(version @ ("3.0" | "3.1" | "4.0")) => Some(format!("CVSS:{version}/{vector}")),
        _ => Some(vector),
    }
}

fn component_asset(component: &Component, language: Option<&str>, licenses: &[LicenseEntry]) -> Asset {
    let identifier = match (&component.purl, &component.version) {
        (Some(purl), _) => purl.to_string(),
        (None, Some(version)) => format!("{}@{version}", component.name),
        (None, None) => component.name.clone(),
    };
    let mut asset = Asset::new(AssetKind::Component, &identifier, component.name.clone());
    if let Some(purl) = &component.purl {
        asset.add_identifier("purl", purl.to_string());
    }
    let licenses: Vec<String> = licenses.iter().filter_map(LicenseEntry::name).collect();
    let attributes = [
        ("version", component.version.clone()),
        ("ecosystem", component.ecosystem.clone()),
        ("language", util::non_empty(language)),
        ("licenses", Some(licenses.join(", "))),
    ];
    for (name, value) in attributes {
        if let Some(value) = util::non_empty(value.as_deref()) {
            asset.attributes.insert(name.to_string(), value);
        }
    }
    asset
}

/// Returns the path when it identifies something: not empty and not `.`.
/// Grype 0.24 wrote directory targets with their JSON quotes
/// (`"\".\""`), which are removed first.
fn usable_path(path: &str) -> Option<&str> {
    let path = path.trim().trim_matches('"').trim();
    (!path.is_empty() && path != "." && path != "./").then_some(path)
}

/// Builds the scope and the asset of the scanned source.
fn source_asset(source: Option<&Source>, distro: Option<&Distro>, default_target: &str) -> (SourceScope, Asset) {
    let source_type = source.and_then(|s| s.source_type.as_deref()).unwrap_or_default();
    let kind = match source_type {
        "image" => AssetKind::ContainerImage,
        "directory" => AssetKind::Repository,
        _ => AssetKind::Other,
    };
    let target = source
        .and_then(|s| s.target.as_ref())
        .filter(|_| source_type != "unknown");
    let (name, image) = match target {
        Some(SourceTarget::Path(path)) => (usable_path(path).map(str::to_string), None),
        Some(SourceTarget::Image(image)) => {
            let name = image
                .user_input
                .as_deref()
                .and_then(usable_path)
                .or_else(|| image.path.as_deref().and_then(usable_path))
                .map(str::to_string);
            (name, Some(image.as_ref()))
        }
        None => (None, None),
    };
    let target = name.unwrap_or_else(|| default_target.to_string());

    let mut asset = Asset::new(kind, &target, target.clone());
    if let Some(image) = image {
        if let Some(image_id) = util::non_empty(image.image_id.as_deref()) {
            asset.add_identifier("image_id", image_id);
        }
        let digests = image.manifest_digest.iter().chain(&image.repo_digests);
        for digest in digests.filter_map(|d| util::non_empty(Some(d))) {
            asset.add_identifier("image_digest", digest);
        }
        for tag in image.tags.iter().filter_map(|t| util::non_empty(Some(t))) {
            asset.add_identifier("repo_tag", tag);
        }
    }
    if let Some(distro) = distro {
        let parts: Vec<String> = [&distro.name, &distro.version]
            .into_iter()
            .filter_map(|part| util::non_empty(part.as_deref()))
            .collect();
        if !parts.is_empty() {
            asset.attributes.insert("os".into(), parts.join(" "));
        }
    }
    let scope = SourceScope {
        key: asset.key.clone(),
        target,
    };
    (scope, asset)
}

// ---------------------------------------------------------------------------
// Streaming: the top-level object and the `matches` array.
// ---------------------------------------------------------------------------

struct ReportSeed<'s, 'a> {
    emitter: &'s mut Emitter<'a>,
}

impl<'de> DeserializeSeed<'de> for ReportSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ReportSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Grype JSON report: an object with matches, source and descriptor")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut has_matches = false;
        let mut source: Option<Source> = None;
        let mut distro: Option<Distro> = None;
        let mut descriptor: Option<Descriptor> = None;
        let mut other_keys: Vec<String> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "matches" => {
                    map.next_value_seed(MatchesSeed { emitter: self.emitter })?;
                    has_matches = true;
                }
                "source" => {
                    let value: Option<Source> = map.next_value()?;
                    let (scope, _) = source_asset(value.as_ref(), None, self.emitter.default_target);
                    self.emitter.set_scope(scope);
                    source = value;
                }
                "distro" => distro = map.next_value()?,
                "descriptor" => descriptor = map.next_value()?,
                _ => {
                    if other_keys.len() < 5 {
                        other_keys.push(key);
                    }
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        let tool = descriptor.as_ref().and_then(|d| util::non_empty(d.name.as_deref()));
        if let Some(name) = tool.filter(|name| !name.eq_ignore_ascii_case("grype")) {
            let version = descriptor.as_ref().and_then(|d| d.version.clone()).unwrap_or_default();
            return Err(de::Error::custom(format!(
                "not a Grype report: its descriptor names {name:?} {version}; expected grype"
            )));
        }
        if !has_matches {
            let found = if other_keys.is_empty() {
                "no other key".to_string()
            } else {
                format!("keys {}", other_keys.join(", "))
            };
            return Err(de::Error::custom(format!(
                "not a Grype JSON report: expected a top-level matches array, found {found}"
            )));
        }

        let (scope, asset) = source_asset(source.as_ref(), distro.as_ref(), self.emitter.default_target);
        if self.emitter.scope.is_none() {
            self.emitter.set_scope(scope);
        }
        self.emitter.sink.asset(asset);
        Ok(())
    }
}

struct MatchesSeed<'s, 'a> {
    emitter: &'s mut Emitter<'a>,
}

impl<'de> DeserializeSeed<'de> for MatchesSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for MatchesSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of Grype matches")
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(record) = seq.next_element::<Match>()? {
            self.emitter.handle(record).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_vectors_get_prefix() {
        let cvss = |version: &str, vector: &str| Cvss {
            version: Some(version.into()),
            vector: Some(vector.into()),
        };
        let v31 = normalized_vector(&cvss("3.1", "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"));
        assert_eq!(v31.as_deref(), Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"));
        let v2 = normalized_vector(&cvss("2.0", "AV:N/AC:L/Au:N/C:P/I:P/A:P"));
        assert_eq!(v2.as_deref(), Some("AV:N/AC:L/Au:N/C:P/I:P/A:P"));
        let prefixed = normalized_vector(&cvss("3.0", "CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:H/A:N"));
        assert_eq!(
            prefixed.as_deref(),
            Some("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:H/A:N")
        );
    }

    #[test]
    fn quoted_directory_is_unnamed() {
        assert_eq!(usable_path("\".\""), None);
        assert_eq!(usable_path("/srv/app"), Some("/srv/app"));
    }
}
