//! ctem-native JSON: assets, relationships and findings written directly
//! in ctem's model, for tools that ctem has no parser for.
//!
//! # Reads
//!
//! `ctem_format` `"1"`, as documented with a complete example in
//! `docs/native-format.md`. A file declaring another version is rejected.
//!
//! # Field mapping
//!
//! The records are the model's own JSON, as `ctem parse --format json`
//! prints them:
//!
//! - `assets`: [`Asset`] (`key`, `kind`, `name`, `identifiers`,
//!   `attributes`, `tags`, `internet_exposed`, `owner`, `criticality`);
//! - `relationships`: [`Relationship`] (`from`, `to`, `kind`, `protocol`,
//!   `port`);
//! - `findings`: [`Finding`]. A finding may leave out `tool` (the
//!   top-level `tool.name` is used, lowercased) and `target` (the first
//!   scope's target is used). It may give `fingerprint`, which must then
//!   equal the fingerprint ctem computes.
//!
//! Validation is strict, so that a mapping mistake is found when the file
//! is written, not when a dashboard looks wrong: unknown keys are rejected
//! at every level; ids (CVE, GHSA, CWE, CVSS vectors, purls, severities,
//! kinds) are validated by the model's types; an asset's key must be
//! `<kind>:<identifier>` for its own kind and normalized as the model
//! builds it (host names lowercased); every key that a relationship or a
//! finding names must be a valid key; two assets may not share a key; a
//! finding's `target` must be one of the declared scopes; a masked secret
//! must have a SHA-256 digest and a masked form, never the clear value.
//!
//! The arrays are read one record at a time. A finding that leaves out
//! `tool` or `target` takes them from `tool` and `scopes`; when those come
//! after `findings` in the file (as with serializers that sort keys), such
//! findings are kept in memory until the end of the file.
//!
//! # Scope target
//!
//! Each entry of `scopes` (`target`, and `tool`, which defaults to the
//! top-level tool). Without `scopes`, the targets that findings name, or
//! [`ParseContext::default_target`] when they name none.
//!
//! # Fingerprint
//!
//! The model's fingerprint of each finding (tool, rule id, asset,
//! component, location, tool fingerprint), computed as for every other
//! format.
//!
//! # Not read yet
//!
//! Risk assessments and lifecycle states: a tool reports what it saw, and
//! ctem computes the rest.
//!
//! # Reference
//!
//! `docs/native-format.md` in this repository.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::io::BufRead;
use std::marker::PhantomData;

use ctem_model::{
    Asset, AssetKey, AssetKind, Component, Criticality, CvssVector, Cwe, Finding, FindingKind, Fix, Location,
    MaskedSecret, Purl, Relationship, RelationshipKind, Severity, SourceStatus, VulnerabilityId,
};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::formats::inventory_shared;
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink};

const FORMAT_ID: &str = "ctem-json";

/// The version of the format this parser reads.
pub const FORMAT_VERSION: &str = "1";

/// The top-level keys of a ctem-native file.
const TOP_LEVEL_KEYS: &[&str] = &["ctem_format", "tool", "scopes", "assets", "relationships", "findings"];

/// The ctem-native JSON parser.
pub struct CtemJson;

impl Parser for CtemJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "ctem-native JSON",
            tool: "any tool mapped to ctem's model",
            versions: "ctem_format 1",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        match inventory_shared::json_head_keys(head) {
            Some(keys) if keys.iter().any(|key| key == "ctem_format") => Detection::Certain,
            _ => Detection::No,
        }
    }

    fn parse(
        &self,
        context: &ParseContext<'_>,
        reader: &mut dyn BufRead,
        sink: &mut dyn Sink,
    ) -> Result<(), ParseError> {
        let mut file = NativeFile {
            sink,
            version: None,
            tool: None,
            scopes: None,
            pending: Vec::new(),
            asset_keys: HashSet::new(),
            finding_targets: BTreeSet::new(),
            findings: 0,
            relationships: 0,
        };
        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        deserializer
            .deserialize_map(Root { file: &mut file })
            .and_then(|()| deserializer.end())
            .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))?;
        file.finish(context)
            .map_err(|message| ParseError::new(context.path, FORMAT_ID, None, message))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeTool {
    name: String,
    #[serde(default)]
    #[allow(
        dead_code,
        reason = "documented and validated as text; the model has no field for it yet"
    )]
    version: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeScope {
    target: String,
    #[serde(default)]
    tool: Option<String>,
}

/// The checked twin of [`Asset`]: the same fields, no others.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeAsset {
    key: AssetKey,
    kind: AssetKind,
    name: String,
    #[serde(default)]
    identifiers: Vec<(String, String)>,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    internet_exposed: Option<bool>,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    criticality: Option<Criticality>,
}

/// The checked twin of [`Relationship`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeRelationship {
    from: AssetKey,
    to: AssetKey,
    kind: RelationshipKind,
    #[serde(default)]
    protocol: Option<String>,
    #[serde(default)]
    port: Option<u16>,
}

/// The checked twin of [`Finding`], with `tool` and `target` optional and
/// the computed `fingerprint` allowed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeFinding {
    #[serde(default)]
    fingerprint: Option<String>,
    #[serde(default)]
    tool: Option<String>,
    rule_id: String,
    kind: FindingKind,
    title: String,
    #[serde(default)]
    description: Option<String>,
    severity: Severity,
    #[serde(default)]
    vulnerability_ids: Vec<VulnerabilityId>,
    #[serde(default)]
    cwes: Vec<Cwe>,
    #[serde(default)]
    cvss: Vec<CvssVector>,
    asset: AssetKey,
    #[serde(default)]
    location: NativeLocation,
    #[serde(default)]
    component: Option<NativeComponent>,
    #[serde(default)]
    fix: NativeFix,
    #[serde(default)]
    evidence: Option<String>,
    #[serde(default)]
    secret: Option<NativeSecret>,
    #[serde(default)]
    references: Vec<String>,
    #[serde(default)]
    source_status: Option<SourceStatus>,
    #[serde(default)]
    tool_fingerprint: Option<String>,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeLocation {
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    start_line: Option<u32>,
    #[serde(default)]
    end_line: Option<u32>,
    #[serde(default)]
    start_column: Option<u32>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    parameter: Option<String>,
    #[serde(default)]
    port: Option<u16>,
    #[serde(default)]
    protocol: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeComponent {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    purl: Option<Purl>,
    #[serde(default)]
    ecosystem: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeFix {
    #[serde(default)]
    fixed_versions: Vec<String>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeSecret {
    masked: String,
    sha256: String,
}

/// The declarations of one file read so far.
struct NativeFile<'s> {
    sink: &'s mut dyn Sink,
    version: Option<String>,
    tool: Option<NativeTool>,
    /// (tool, target) of each declared scope; the tool is `None` until the
    /// top-level tool is known.
    scopes: Option<Vec<(Option<String>, String)>>,
    /// Findings that leave out their tool or target and came before the
    /// top-level `tool` or `scopes` that give them.
    pending: Vec<NativeFinding>,
    asset_keys: HashSet<AssetKey>,
    /// (tool, target) of findings that named their target.
    finding_targets: BTreeSet<(String, String)>,
    findings: usize,
    relationships: usize,
}

/// Checks that a key is `<kind>:<identifier>` with a kind of the model, a
/// non-empty identifier, and the normalization of [`AssetKey::new`].
fn check_key(key: &AssetKey) -> Result<AssetKind, String> {
    let kind = key
        .kind()
        .ok_or_else(|| format!("invalid asset key \"{key}\": expected <kind>:<identifier> with a kind such as host, container_image or cloud_resource"))?;
    let identifier = key.identifier();
    if identifier.trim().is_empty() {
        return Err(format!(
            "invalid asset key \"{key}\": the identifier after the kind is empty"
        ));
    }
    let normalized = AssetKey::new(kind, identifier);
    if &normalized != key {
        return Err(format!(
            "asset key \"{key}\" is not normalized: write \"{normalized}\" (host, domain and service names are \
             lowercase, without surrounding spaces)"
        ));
    }
    Ok(kind)
}

impl NativeFile<'_> {
    fn tool_name(&self) -> Option<String> {
        self.tool.as_ref().map(|tool| tool.name.trim().to_ascii_lowercase())
    }

    fn asset(&mut self, native: NativeAsset) -> Result<(), String> {
        let kind = check_key(&native.key)?;
        if kind != native.kind {
            return Err(format!(
                "asset key \"{}\" starts with the kind {} but the asset's kind is {}",
                native.key, kind, native.kind
            ));
        }
        if !self.asset_keys.insert(native.key.clone()) {
            return Err(format!("asset \"{}\" is declared twice", native.key));
        }
        if let Some((kind, _)) = native
            .identifiers
            .iter()
            .find(|(kind, value)| kind.trim().is_empty() || value.is_empty())
        {
            return Err(format!("asset \"{}\" has an empty identifier {kind:?}", native.key));
        }
        self.sink.asset(Asset {
            key: native.key,
            kind: native.kind,
            name: native.name,
            identifiers: native.identifiers,
            attributes: native.attributes,
            tags: native.tags,
            internet_exposed: native.internet_exposed,
            owner: native.owner,
            criticality: native.criticality,
        });
        Ok(())
    }

    fn relationship(&mut self, native: NativeRelationship) -> Result<(), String> {
        check_key(&native.from)?;
        check_key(&native.to)?;
        self.relationships += 1;
        self.sink.relationship(Relationship {
            from: native.from,
            to: native.to,
            kind: native.kind,
            protocol: native.protocol,
            port: native.port,
        });
        Ok(())
    }

    /// Reads a finding, or keeps it for the end of the file when it leaves
    /// out a tool or target that the file gives only after it.
    fn finding(&mut self, native: NativeFinding) -> Result<(), String> {
        check_key(&native.asset)?;
        if native.rule_id.trim().is_empty() {
            return Err("a finding has an empty rule_id".to_string());
        }
        if native.title.trim().is_empty() {
            return Err(format!("finding {} has an empty title", native.rule_id));
        }
        if native.tool.as_deref().is_some_and(|tool| tool.trim().is_empty()) {
            return Err(format!("finding {} has an empty tool", native.rule_id));
        }
        let secret_error = native
            .secret
            .as_ref()
            .and_then(|secret| check_secret(secret, &native.rule_id).err());
        if let Some(error) = secret_error {
            return Err(error);
        }

        let waits_for_tool = native.tool.is_none() && self.tool.is_none();
        let waits_for_scope = native.target.is_none() && self.scopes.is_none();
        if waits_for_tool || waits_for_scope {
            self.pending.push(native);
            return Ok(());
        }
        self.emit(native, None)
    }

    /// Builds a model finding from a checked one and sends it. A missing
    /// target is the first scope's, else `default_target`.
    fn emit(&mut self, native: NativeFinding, default_target: Option<&str>) -> Result<(), String> {
        let tool = match native.tool.as_deref() {
            Some(tool) => tool.trim().to_ascii_lowercase(),
            None => self.tool_name().ok_or_else(|| {
                format!(
                    "finding {} has no tool, and the file has no top-level tool",
                    native.rule_id
                )
            })?,
        };
        let target = match native.target {
            Some(target) => {
                self.finding_targets.insert((tool.clone(), target.clone()));
                target
            }
            None => match self.scopes.as_ref().and_then(|scopes| scopes.first()) {
                Some((_, target)) => target.clone(),
                None => {
                    let target = default_target.unwrap_or_default().to_string();
                    self.finding_targets.insert((tool.clone(), target.clone()));
                    target
                }
            },
        };
        let secret = match &native.secret {
            Some(secret) => Some(check_secret(secret, &native.rule_id)?),
            None => None,
        };

        let mut finding = Finding::new(
            tool,
            native.rule_id,
            native.kind,
            native.title,
            native.severity,
            native.asset,
        );
        finding.description = native.description;
        finding.vulnerability_ids = native.vulnerability_ids;
        finding.cwes = native.cwes;
        finding.cvss = native.cvss;
        let location = native.location;
        finding.location = Location {
            path: location.path,
            start_line: location.start_line,
            end_line: location.end_line,
            start_column: location.start_column,
            url: location.url,
            method: location.method,
            parameter: location.parameter,
            port: location.port,
            protocol: location.protocol,
        };
        finding.component = native.component.map(|component| Component {
            name: component.name,
            version: component.version,
            purl: component.purl,
            ecosystem: component.ecosystem,
        });
        finding.fix = Fix {
            fixed_versions: native.fix.fixed_versions,
            description: native.fix.description,
        };
        finding.evidence = native.evidence;
        finding.secret = secret;
        finding.references = native.references;
        finding.source_status = native.source_status;
        finding.tool_fingerprint = native.tool_fingerprint;
        finding.target = Some(target);
        finding.attributes = native.attributes;

        if let Some(given) = native.fingerprint {
            let computed = finding.fingerprint();
            if given != computed.as_str() {
                return Err(format!(
                    "finding {} gives the fingerprint {given:?}, but its fields give {computed}: remove the \
                     fingerprint, which ctem computes, or fix the fields it is made of",
                    finding.rule_id
                ));
            }
        }
        self.findings += 1;
        self.sink.finding(finding);
        Ok(())
    }

    /// Checks the version and the scopes once the whole file is read, and
    /// declares the scopes.
    fn finish(mut self, context: &ParseContext<'_>) -> Result<(), String> {
        match self.version.as_deref() {
            Some(FORMAT_VERSION) => {}
            Some(other) => {
                return Err(format!(
                    "unsupported ctem_format {other:?}: this version of ctem reads ctem_format \"{FORMAT_VERSION}\""
                ));
            }
            None => {
                return Err(format!(
                    "missing ctem_format: a ctem-native file starts with \"ctem_format\": \"{FORMAT_VERSION}\""
                ));
            }
        }
        let Some(tool) = self.tool_name().filter(|tool| !tool.is_empty()) else {
            return Err(
                "missing tool: a ctem-native file names the tool that wrote it, as \"tool\": {\"name\": ...}".into(),
            );
        };

        for native in std::mem::take(&mut self.pending) {
            self.emit(native, Some(context.default_target))?;
        }

        match self.scopes.take() {
            Some(scopes) => {
                for (finding_tool, target) in &self.finding_targets {
                    if !scopes.iter().any(|(_, scope)| scope == target) {
                        return Err(format!(
                            "a finding of {finding_tool} names the target {target:?}, which is not among the scopes; \
                             add it to \"scopes\""
                        ));
                    }
                }
                for (scope_tool, target) in &scopes {
                    self.sink.target(scope_tool.as_deref().unwrap_or(&tool), target);
                }
            }
            None if self.finding_targets.is_empty() => self.sink.target(&tool, context.default_target),
            None => {
                for (finding_tool, target) in &self.finding_targets {
                    self.sink.target(finding_tool, target);
                }
            }
        }
        Ok(())
    }
}

/// Checks that a masked secret is a masked form and a SHA-256 digest, as
/// [`MaskedSecret::new`] writes them.
fn check_secret(secret: &NativeSecret, rule_id: &str) -> Result<MaskedSecret, String> {
    let digest = secret.sha256.len() == 64
        && secret
            .sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !digest {
        return Err(format!(
            "the secret of finding {rule_id} has no valid sha256: expected 64 lowercase hex digits of the SHA-256 \
             of the clear value"
        ));
    }
    let shown = secret
        .masked
        .strip_suffix("********")
        .map(|prefix| prefix.chars().count());
    if !matches!(shown, Some(0..=4)) {
        return Err(format!(
            "the secret of finding {rule_id} is not masked: expected at most four characters followed by \
             ******** (never the clear value)"
        ));
    }
    Ok(MaskedSecret {
        masked: secret.masked.clone(),
        sha256: secret.sha256.clone(),
    })
}

/// Reads the top-level object, handing each record to the file as it is
/// read.
struct Root<'f, 's> {
    file: &'f mut NativeFile<'s>,
}

impl<'de> Visitor<'de> for Root<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter
            .write_str("a ctem-native JSON object with ctem_format, tool, scopes, assets, relationships and findings")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let file = self.file;
        let mut seen = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !TOP_LEVEL_KEYS.contains(&key.as_str()) {
                return Err(de::Error::custom(format!(
                    "unknown top-level key {key:?}; a ctem-native file has only {}",
                    TOP_LEVEL_KEYS.join(", ")
                )));
            }
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!("the top-level key {key:?} appears twice")));
            }
            match key.as_str() {
                "ctem_format" => file.version = Some(map.next_value()?),
                "tool" => file.tool = Some(map.next_value()?),
                "scopes" => {
                    let scopes: Vec<NativeScope> = map.next_value()?;
                    let mut declared = Vec::new();
                    for scope in scopes {
                        if scope.target.trim().is_empty() {
                            return Err(de::Error::custom("a scope has an empty target"));
                        }
                        let tool = scope.tool.map(|tool| tool.trim().to_ascii_lowercase());
                        if tool.as_deref() == Some("") {
                            return Err(de::Error::custom("a scope has an empty tool"));
                        }
                        declared.push((tool, scope.target));
                    }
                    file.scopes = Some(declared);
                }
                "assets" => map.next_value_seed(Checked::new(|asset: NativeAsset| file.asset(asset)))?,
                "relationships" => map.next_value_seed(Checked::new(|relationship: NativeRelationship| {
                    file.relationship(relationship)
                }))?,
                _ => map.next_value_seed(Checked::new(|finding: NativeFinding| file.finding(finding)))?,
            }
        }
        Ok(())
    }
}

/// A seed that reads an array one element at a time and hands each to a
/// check that may reject it. A rejection becomes an error at the
/// element's position.
struct Checked<T, F> {
    handle: F,
    element: PhantomData<fn() -> T>,
}

impl<T, F> Checked<T, F> {
    fn new(handle: F) -> Self {
        Checked {
            handle,
            element: PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(T) -> Result<(), String>> DeserializeSeed<'de> for Checked<T, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(T) -> Result<(), String>> Visitor<'de> for Checked<T, F> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(element) = seq.next_element::<T>()? {
            (self.handle)(element).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}
