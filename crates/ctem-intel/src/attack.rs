//! MITRE ATT&CK techniques of CVEs: the mappings of the Center for
//! Threat-Informed Defense (CTID), and the ATT&CK catalog that names
//! techniques and tactics.
//!
//! # CTID mappings
//!
//! [`CtidMappings`] reads the JSON export of the CTID Mappings Explorer
//! (<https://center-for-threat-informed-defense.github.io/mappings-explorer/>,
//! files such as `kev-07.28.2025_attack-16.1-enterprise.json`). The file is
//! one object with `metadata` (`attack_version`, `technology_domain`,
//! `mapping_framework`, `mapping_framework_version`, `creation_date` and
//! `last_update` as `MM/DD/YYYY`) and `mapping_objects[]`. Each mapping
//! object links a capability (`capability_id`, a CVE for the KEV mappings)
//! to an ATT&CK technique (`attack_object_id`, `attack_object_name`) with a
//! `mapping_type`:
//!
//! - `exploitation_technique`: how attackers exploit the vulnerability, such
//!   as T1190 Exploit Public-Facing Application;
//! - `primary_impact`: what a successful exploit gives them at once;
//! - `secondary_impact`: what they can do next with it;
//! - `uncategorized`: declared by the format, unused by the KEV mappings.
//!
//! Every mapping becomes a [`Fact`] of an [`AttackTechnique`], whose
//! [`Provenance`] has the kind [`SourceKind::CtidMappings`] and the date of
//! `last_update` (else `creation_date`). The ATT&CK version of the file is
//! kept in each [`AttackTechnique`], because the provenance has no field
//! for it. `comments` and `references` are kept too, for reports. The
//! capability description and group, the status and the per-object
//! framework version are not read.
//!
//! Validation: the file is rejected for a capability id that is not a CVE,
//! a technique id that is not `Tnnnn` or `Tnnnn.nnn`, an unknown mapping
//! type or a field of the wrong JSON type. The error names the JSON path
//! (`mapping_objects[12].mapping_type`) and the value. Mappings with the
//! status `non_mappable` and no technique are skipped, as the format uses
//! them to say that no technique applies. A mapping listed twice is kept
//! once. The file may not exceed [`CTID_MAX_BYTES`].
//!
//! # ATT&CK catalog
//!
//! [`AttackCatalog`] reads a MITRE ATT&CK STIX 2.1 bundle (such as
//! `enterprise-attack.json` of the `mitre-attack/attack-stix-data`
//! repository) as a stream, keeping only techniques (`attack-pattern`),
//! tactics (`x-mitre-tactic`) and the ATT&CK version of the collection
//! (`x-mitre-collection`). See [`AttackCatalog`] for the fields it reads.
//!
//! ```
//! use ctem_intel::{CtidMappings, MappingType};
//! use ctem_model::CveId;
//!
//! let json = r#"{
//!   "metadata": {"attack_version": "16.1", "technology_domain": "enterprise",
//!                "mapping_framework": "kev", "last_update": "08/28/2025"},
//!   "mapping_objects": [{
//!     "capability_id": "CVE-2023-22515", "mapping_type": "exploitation_technique",
//!     "attack_object_id": "T1190", "attack_object_name": "Exploit Public-Facing Application",
//!     "status": "complete"
//!   }]
//! }"#;
//! let mappings = CtidMappings::from_reader("kev-mappings.json", json.as_bytes())?;
//!
//! let cve: CveId = "CVE-2023-22515".parse()?;
//! let facts = mappings.get(&cve);
//! assert_eq!(facts[0].value.id.as_str(), "T1190");
//! assert_eq!(facts[0].value.mapping_type, MappingType::ExploitationTechnique);
//! assert_eq!(facts[0].source.date.map(|d| d.to_string()).as_deref(), Some("2025-08-28"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod catalog;

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::str::FromStr;

use chrono::NaiveDate;
use ctem_model::CveId;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{IntelError, shorten};
use crate::provenance::{Fact, Provenance, SourceKind};

pub use catalog::{ATTACK_BUNDLE_MAX_BYTES, AttackCatalog, CatalogTechnique, Tactic};

/// The maximum size of a CTID mappings file in bytes. The KEV mappings of
/// July 2025 (1,183 mappings) are 1.2 MB, so the limit leaves ample room.
pub const CTID_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// An ATT&CK technique or sub-technique id, such as `T1190` or `T1059.004`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct TechniqueId(String);

impl TechniqueId {
    /// Returns the id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns whether the id names a sub-technique (`T1059.004`).
    pub fn is_subtechnique(&self) -> bool {
        self.0.contains('.')
    }

    /// Returns the parent technique of a sub-technique (`T1059` for `T1059.004`).
    pub fn parent(&self) -> Option<TechniqueId> {
        self.0
            .split_once('.')
            .map(|(parent, _)| TechniqueId(parent.to_string()))
    }
}

/// The error of parsing a [`TechniqueId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid ATT&CK technique id {0:?}: expected T and four digits, with an optional sub-technique .NNN")]
pub struct InvalidTechniqueId(String);

impl FromStr for TechniqueId {
    type Err = InvalidTechniqueId;

    /// Parses `T1190` or `T1059.004`, accepting a lowercase `t`.
    fn from_str(text: &str) -> Result<TechniqueId, InvalidTechniqueId> {
        let invalid = || InvalidTechniqueId(shorten(text));
        let digits = text
            .strip_prefix('T')
            .or_else(|| text.strip_prefix('t'))
            .ok_or_else(invalid)?;
        let (base, sub) = match digits.split_once('.') {
            Some((base, sub)) => (base, Some(sub)),
            None => (digits, None),
        };
        let all_digits = |part: &str, length: usize| part.len() == length && part.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(base, 4) || sub.is_some_and(|sub| !all_digits(sub, 3)) {
            return Err(invalid());
        }
        Ok(TechniqueId(format!("T{digits}")))
    }
}

impl fmt::Display for TechniqueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The role of a technique in the exploitation of a CVE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MappingType {
    /// The technique by which the vulnerability is exploited.
    ExploitationTechnique,
    /// The first thing that a successful exploit gives the attacker.
    PrimaryImpact,
    /// The follow-on action that the primary impact enables.
    SecondaryImpact,
    /// A mapping without a role.
    Uncategorized,
}

impl MappingType {
    /// Every mapping type, in the order of an attack.
    pub const ALL: [MappingType; 4] = [
        MappingType::ExploitationTechnique,
        MappingType::PrimaryImpact,
        MappingType::SecondaryImpact,
        MappingType::Uncategorized,
    ];

    /// Returns the identifier that the Mappings Explorer uses, such as `primary_impact`.
    pub fn as_str(self) -> &'static str {
        match self {
            MappingType::ExploitationTechnique => "exploitation_technique",
            MappingType::PrimaryImpact => "primary_impact",
            MappingType::SecondaryImpact => "secondary_impact",
            MappingType::Uncategorized => "uncategorized",
        }
    }

    fn parse(text: &str) -> Option<MappingType> {
        MappingType::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

impl fmt::Display for MappingType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One ATT&CK technique that a CTID mapping links to a CVE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttackTechnique {
    pub id: TechniqueId,
    /// `attack_object_name`, such as `Exploit Public-Facing Application`.
    pub name: String,
    pub mapping_type: MappingType,
    /// The ATT&CK version that the mapping refers to, such as `16.1`.
    pub attack_version: String,
    /// The analyst's explanation of the mapping, empty where the file has none.
    pub comments: String,
    /// URLs that support the mapping.
    pub references: Vec<String>,
}

/// The ATT&CK techniques of CVEs, from one CTID mappings file.
#[derive(Debug, Clone)]
pub struct CtidMappings {
    path: String,
    attack_version: String,
    technology_domain: Option<String>,
    framework: Option<String>,
    framework_version: Option<String>,
    date: Option<NaiveDate>,
    by_cve: HashMap<CveId, Vec<Fact<AttackTechnique>>>,
    mapping_count: usize,
}

/// The file as the JSON has it, before validation.
#[derive(Deserialize)]
struct RawFile {
    metadata: Option<Value>,
    mapping_objects: Option<Vec<RawMapping>>,
}

/// A mapping object. Fields are JSON values, so that a value of the wrong
/// type is reported with its path rather than as a parse error.
#[derive(Deserialize)]
struct RawMapping {
    capability_id: Option<Value>,
    mapping_type: Option<Value>,
    attack_object_id: Option<Value>,
    attack_object_name: Option<Value>,
    comments: Option<Value>,
    references: Option<Value>,
    status: Option<Value>,
}

impl CtidMappings {
    /// Loads a CTID Mappings Explorer JSON file.
    pub fn load(path: impl AsRef<Path>) -> Result<CtidMappings, IntelError> {
        let (display, file) = open(path.as_ref())?;
        CtidMappings::from_reader(&display, file)
    }

    /// Reads a CTID Mappings Explorer JSON file from `reader`;
    /// `path_for_errors` names the source in errors and in provenance.
    pub fn from_reader(path_for_errors: &str, reader: impl Read) -> Result<CtidMappings, IntelError> {
        let path = path_for_errors;
        let raw: RawFile = read_json_limited(path, reader, CTID_MAX_BYTES, "CTID mappings", |reader| {
            serde_json::from_reader(reader)
        })?;

        let metadata = raw
            .metadata
            .ok_or_else(|| not_ctid(path, "the metadata object is missing"))?;
        if !metadata.is_object() {
            return Err(not_ctid(path, "metadata is not an object"));
        }
        let raw_mappings = raw
            .mapping_objects
            .ok_or_else(|| not_ctid(path, "the mapping_objects array is missing"))?;

        let field = |name: &str| text_field(path, &metadata, name, || format!("metadata.{name}"));
        let attack_version = field("attack_version")?
            .filter(|version| !version.trim().is_empty())
            .ok_or_else(|| not_ctid(path, "metadata.attack_version is missing or empty"))?
            .trim()
            .to_string();
        let technology_domain = field("technology_domain")?.map(str::to_string);
        let framework = field("mapping_framework")?.map(str::to_string);
        let framework_version = field("mapping_framework_version")?.map(str::to_string);
        let date = match field("last_update")? {
            Some(text) => Some(parse_us_date(path, "metadata.last_update", text)?),
            None => match field("creation_date")? {
                Some(text) => Some(parse_us_date(path, "metadata.creation_date", text)?),
                None => None,
            },
        };

        let source = Provenance::new(SourceKind::CtidMappings, path, date);
        let mut by_cve: HashMap<CveId, Vec<Fact<AttackTechnique>>> = HashMap::new();
        let mut mapping_count = 0;
        let mut duplicates = 0usize;
        let mut not_mappable = 0usize;
        for (index, raw) in raw_mappings.into_iter().enumerate() {
            let Some((cve, technique)) = convert_mapping(path, index, raw, &attack_version)? else {
                not_mappable += 1;
                continue;
            };
            let facts = by_cve.entry(cve).or_default();
            let listed = facts
                .iter()
                .any(|fact| fact.value.id == technique.id && fact.value.mapping_type == technique.mapping_type);
            if listed {
                duplicates += 1;
                continue;
            }
            facts.push(Fact::new(technique, source.clone()));
            mapping_count += 1;
        }

        if duplicates > 0 {
            tracing::warn!(
                path,
                duplicates,
                "CTID mappings list some CVE, technique and mapping type more than once; the first is used"
            );
        }
        if not_mappable > 0 {
            tracing::debug!(path, not_mappable, "CTID mappings without a technique were skipped");
        }
        Ok(CtidMappings {
            path: path.to_string(),
            attack_version,
            technology_domain,
            framework,
            framework_version,
            date,
            by_cve,
            mapping_count,
        })
    }

    /// Returns the techniques of a CVE, in the order of the file; empty when
    /// the file does not map the CVE.
    pub fn get(&self, cve: &CveId) -> &[Fact<AttackTechnique>] {
        self.by_cve.get(cve).map_or(&[], Vec::as_slice)
    }

    /// Returns the CVEs that the file maps, in no particular order.
    pub fn cves(&self) -> impl Iterator<Item = &CveId> {
        self.by_cve.keys()
    }

    /// Returns the number of CVEs with at least one technique.
    pub fn len(&self) -> usize {
        self.by_cve.len()
    }

    /// Returns whether the file maps no CVE.
    pub fn is_empty(&self) -> bool {
        self.by_cve.is_empty()
    }

    /// Returns the number of distinct mappings (CVE, technique, mapping type).
    pub fn mapping_count(&self) -> usize {
        self.mapping_count
    }

    /// Returns the ATT&CK version of `metadata.attack_version`, such as `16.1`.
    pub fn attack_version(&self) -> &str {
        &self.attack_version
    }

    /// Returns `metadata.technology_domain`, such as `enterprise`.
    pub fn technology_domain(&self) -> Option<&str> {
        self.technology_domain.as_deref()
    }

    /// Returns `metadata.mapping_framework`, such as `kev`.
    pub fn framework(&self) -> Option<&str> {
        self.framework.as_deref()
    }

    /// Returns `metadata.mapping_framework_version`, such as `07/28/2025`.
    pub fn framework_version(&self) -> Option<&str> {
        self.framework_version.as_deref()
    }

    /// Returns the date of the mappings: `last_update`, else `creation_date`.
    pub fn date(&self) -> Option<NaiveDate> {
        self.date
    }

    /// Returns the path (or the name given to [`CtidMappings::from_reader`]).
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// Opens a file, returning its path as text for errors.
pub(crate) fn open(path: &Path) -> Result<(String, File), IntelError> {
    let display = path.display().to_string();
    let file = File::open(path).map_err(|source| IntelError::Io {
        path: display.clone(),
        source,
    })?;
    Ok((display, file))
}

/// Validates one mapping object. Returns `None` for a `non_mappable` object
/// without a technique.
fn convert_mapping(
    path: &str,
    index: usize,
    raw: RawMapping,
    attack_version: &str,
) -> Result<Option<(CveId, AttackTechnique)>, IntelError> {
    let location = |field: &str| format!("mapping_objects[{index}].{field}");

    let status = text(path, index, &raw.status, "status")?;
    let technique_text = text(path, index, &raw.attack_object_id, "attack_object_id")?;
    let Some(technique_text) = technique_text else {
        if status == Some("non_mappable") {
            return Ok(None);
        }
        return Err(invalid(
            path,
            location("attack_object_id"),
            "the field is missing, and the status is not non_mappable".to_string(),
        ));
    };
    let id: TechniqueId = technique_text
        .trim()
        .parse()
        .map_err(|error: InvalidTechniqueId| invalid(path, location("attack_object_id"), error.to_string()))?;

    let cve_text = required(path, index, &raw.capability_id, "capability_id")?;
    let cve: CveId = cve_text.trim().parse().map_err(|_| {
        invalid(
            path,
            location("capability_id"),
            format!("invalid CVE id {:?}; expected CVE-YYYY-NNNN", shorten(cve_text)),
        )
    })?;

    let type_text = required(path, index, &raw.mapping_type, "mapping_type")?;
    let mapping_type = MappingType::parse(type_text.trim()).ok_or_else(|| {
        invalid(
            path,
            location("mapping_type"),
            format!(
                "unknown mapping type {:?}; expected exploitation_technique, primary_impact, secondary_impact or uncategorized",
                shorten(type_text)
            ),
        )
    })?;

    let name = required(path, index, &raw.attack_object_name, "attack_object_name")?
        .trim()
        .to_string();
    let comments = text(path, index, &raw.comments, "comments")?
        .unwrap_or_default()
        .trim()
        .to_string();
    let references = string_list(path, raw.references.as_ref(), &location("references"))?;

    let technique = AttackTechnique {
        id,
        name,
        mapping_type,
        attack_version: attack_version.to_string(),
        comments,
        references,
    };
    Ok(Some((cve, technique)))
}

/// Returns a field of mapping object `index` as text, `None` when it is
/// missing or null.
fn text<'v>(path: &str, index: usize, value: &'v Option<Value>, field: &str) -> Result<Option<&'v str>, IntelError> {
    as_text(path, value.as_ref(), || format!("mapping_objects[{index}].{field}"))
}

/// Returns a field of mapping object `index` as text, rejecting a missing one.
fn required<'v>(path: &str, index: usize, value: &'v Option<Value>, field: &str) -> Result<&'v str, IntelError> {
    text(path, index, value, field)?.ok_or_else(|| {
        invalid(
            path,
            format!("mapping_objects[{index}].{field}"),
            "the field is missing".to_string(),
        )
    })
}

/// Parses a Mappings Explorer date, `MM/DD/YYYY` or `M/D/YYYY`.
fn parse_us_date(path: &str, location: &str, text: &str) -> Result<NaiveDate, IntelError> {
    NaiveDate::parse_from_str(text.trim(), "%m/%d/%Y").map_err(|_| {
        invalid(
            path,
            location.to_string(),
            format!("invalid date {:?}; expected MM/DD/YYYY", shorten(text)),
        )
    })
}

fn not_ctid(path: &str, reason: &str) -> IntelError {
    IntelError::NotFormat {
        path: path.to_string(),
        expected: "a CTID Mappings Explorer file",
        reason: reason.to_string(),
    }
}

pub(crate) fn invalid(path: &str, location: String, reason: String) -> IntelError {
    IntelError::Invalid {
        path: path.to_string(),
        location,
        reason,
    }
}

/// Returns the field `name` of a JSON object as text, `None` when it is
/// missing or null, and an error when it has another type.
pub(crate) fn text_field<'v>(
    path: &str,
    object: &'v Value,
    name: &str,
    location: impl Fn() -> String,
) -> Result<Option<&'v str>, IntelError> {
    as_text(path, object.get(name), location)
}

/// Returns a JSON value as text, `None` for a missing value or null, and an
/// error for another type.
pub(crate) fn as_text<'v>(
    path: &str,
    value: Option<&'v Value>,
    location: impl Fn() -> String,
) -> Result<Option<&'v str>, IntelError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(wrong_type(path, location(), "a string", other)),
    }
}

/// Returns a JSON array of strings; a missing value or null is empty.
fn string_list(path: &str, value: Option<&Value>, location: &str) -> Result<Vec<String>, IntelError> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(position, item)| match item {
                Value::String(text) => Ok(text.trim().to_string()),
                other => Err(wrong_type(path, format!("{location}[{position}]"), "a string", other)),
            })
            .collect(),
        Some(other) => Err(wrong_type(path, location.to_string(), "an array of strings", other)),
    }
}

pub(crate) fn wrong_type(path: &str, location: String, expected: &str, found: &Value) -> IntelError {
    let kind = match found {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    invalid(
        path,
        location,
        format!("expected {expected}, found {kind} {}", shorten(&found.to_string())),
    )
}

/// A reader that counts the bytes read through it, so that a file over the
/// size limit is distinguished from a truncated one.
pub(crate) struct CountingReader<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.count += read as u64;
        Ok(read)
    }
}

/// The reader that [`read_json_limited`] hands to its parser.
pub(crate) type LimitedReader<'a, R> = BufReader<&'a mut CountingReader<std::io::Take<R>>>;

/// Parses JSON from `reader` with `parse`, reading at most `limit` bytes.
/// A file over the limit is [`IntelError::TooLarge`], whatever error the
/// cut-off JSON gave.
pub(crate) fn read_json_limited<T, R: Read>(
    path: &str,
    reader: R,
    limit: u64,
    kind: &'static str,
    parse: impl FnOnce(&mut LimitedReader<'_, R>) -> Result<T, serde_json::Error>,
) -> Result<T, IntelError> {
    let mut counting = CountingReader {
        inner: reader.take(limit + 1),
        count: 0,
    };
    let mut buffered = BufReader::new(&mut counting);
    let result = parse(&mut buffered);
    drop(buffered);

    if counting.count > limit {
        return Err(IntelError::TooLarge {
            path: path.to_string(),
            kind,
            limit,
        });
    }
    result.map_err(|error| crate::json::json_error(path, &error, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn technique_id_parses() {
        let id: TechniqueId = "T1059.004".parse().unwrap();
        assert_eq!(id.as_str(), "T1059.004");
        assert!(id.is_subtechnique());
        assert_eq!(id.parent().unwrap().as_str(), "T1059");
        assert_eq!("t1190".parse::<TechniqueId>().unwrap().as_str(), "T1190");
    }

    #[test]
    fn technique_id_rejects_malformed() {
        for text in [
            "", "T", "T119", "T11900", "1190", "T1059.04", "T1059.", "TA0001", "T1190 ", "S0001",
        ] {
            assert!(text.parse::<TechniqueId>().is_err(), "{text:?}");
        }
    }

    #[test]
    fn us_dates_parse() {
        let expected = NaiveDate::from_ymd_opt(2025, 7, 28).unwrap();
        assert_eq!(parse_us_date("f", "d", "07/28/2025").unwrap(), expected);
        assert_eq!(parse_us_date("f", "d", "7/28/2025").unwrap(), expected);
        assert!(parse_us_date("f", "d", "2025-07-28").is_err());
        assert!(parse_us_date("f", "d", "28/07/2025").is_err());
    }

    #[test]
    fn oversized_input_is_rejected() {
        let huge = std::io::repeat(b' ').take(CTID_MAX_BYTES + 10);
        let error = CtidMappings::from_reader("huge.json", huge).unwrap_err();
        assert!(matches!(error, IntelError::TooLarge { .. }), "{error}");
    }
}
