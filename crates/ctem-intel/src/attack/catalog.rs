//! The MITRE ATT&CK catalog: techniques and tactics from a STIX 2.1 bundle.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::Path;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{TechniqueId, as_text, invalid, open, read_json_limited, wrong_type};
use crate::error::{IntelError, shorten};

/// The maximum size of an ATT&CK bundle in bytes. The enterprise bundle of
/// ATT&CK 16 is about 45 MB. The bundle is read as a stream, so memory
/// grows with the techniques kept, not with the file.
pub const ATTACK_BUNDLE_MAX_BYTES: u64 = 256 * 1024 * 1024;

/// The `source_name` values of the external references that carry ATT&CK
/// ids, one per ATT&CK domain.
const ATTACK_SOURCES: [&str; 3] = ["mitre-attack", "mitre-mobile-attack", "mitre-ics-attack"];

/// One technique or sub-technique of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogTechnique {
    pub id: TechniqueId,
    pub name: String,
    /// The short names of its tactics (`initial-access`), from `kill_chain_phases`.
    pub tactics: Vec<String>,
    /// `x_mitre_deprecated`: ATT&CK no longer maintains the technique.
    pub deprecated: bool,
    /// `revoked`: another technique replaces this one.
    pub revoked: bool,
    /// The page of the technique on attack.mitre.org.
    pub url: Option<String>,
}

impl CatalogTechnique {
    /// Returns whether the technique is neither deprecated nor revoked.
    pub fn is_current(&self) -> bool {
        !self.deprecated && !self.revoked
    }
}

/// A tactic of ATT&CK: the goal of a technique, such as Initial Access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tactic {
    /// The ATT&CK id, such as `TA0001`.
    pub id: String,
    /// `x_mitre_shortname`, such as `initial-access`, which techniques refer to.
    pub shortname: String,
    pub name: String,
    pub url: Option<String>,
}

/// ATT&CK techniques and tactics by id, read from a STIX 2.1 bundle.
///
/// The bundle is one object with `type: bundle` and `objects[]`. Of the
/// objects, the catalog reads:
///
/// - `attack-pattern`: a technique, with `name`, the `external_id` and `url`
///   of its `external_references[]` entry whose `source_name` is
///   `mitre-attack` (or the mobile and ICS equivalents), the tactics of
///   `kill_chain_phases[]`, `x_mitre_deprecated` and `revoked`;
/// - `x-mitre-tactic`: a tactic, with `name`, `x_mitre_shortname` and its
///   `TA` id;
/// - `x-mitre-collection`: the ATT&CK version, from `x_mitre_version`.
///
/// Other objects (groups, software, relationships, mitigations...) are
/// skipped, and so are attack patterns without an ATT&CK id. A field of
/// the wrong JSON type in an object that is read rejects the bundle with
/// an error naming the JSON path. When two objects have the same technique
/// id, the one that is neither revoked nor deprecated wins, else the first.
#[derive(Debug, Clone)]
pub struct AttackCatalog {
    path: String,
    version: Option<String>,
    techniques: HashMap<TechniqueId, CatalogTechnique>,
    tactics: Vec<Tactic>,
}

impl AttackCatalog {
    /// Loads an ATT&CK STIX 2.1 bundle.
    pub fn load(path: impl AsRef<Path>) -> Result<AttackCatalog, IntelError> {
        let (display, file) = open(path.as_ref())?;
        AttackCatalog::from_reader(&display, file)
    }

    /// Reads an ATT&CK STIX 2.1 bundle from `reader`; `path_for_errors`
    /// names the source in errors.
    pub fn from_reader(path_for_errors: &str, reader: impl Read) -> Result<AttackCatalog, IntelError> {
        AttackCatalog::read(path_for_errors, reader, ATTACK_BUNDLE_MAX_BYTES)
    }

    pub(crate) fn read(path: &str, reader: impl Read, limit: u64) -> Result<AttackCatalog, IntelError> {
        let mut builder = Builder::new(path);
        let parsed = read_json_limited(path, reader, limit, "STIX bundle", |reader| {
            let mut deserializer = serde_json::Deserializer::from_reader(reader);
            BundleSeed(&mut builder).deserialize(&mut deserializer)?;
            deserializer.end()
        });
        if let Some(error) = builder.error.take() {
            return Err(error);
        }
        parsed?;
        builder.finish()
    }

    /// Returns a technique by id.
    pub fn technique(&self, id: &TechniqueId) -> Option<&CatalogTechnique> {
        self.techniques.get(id)
    }

    /// Returns the name of a technique, such as `Exploit Public-Facing Application`.
    pub fn name(&self, id: &TechniqueId) -> Option<&str> {
        self.techniques.get(id).map(|technique| technique.name.as_str())
    }

    /// Returns a tactic by its short name, such as `initial-access`.
    pub fn tactic(&self, shortname: &str) -> Option<&Tactic> {
        self.tactics.iter().find(|tactic| tactic.shortname == shortname)
    }

    /// Returns the tactics of a technique that the bundle defines, in the
    /// order of its `kill_chain_phases`.
    pub fn tactics_of(&self, id: &TechniqueId) -> Vec<&Tactic> {
        let Some(technique) = self.techniques.get(id) else {
            return Vec::new();
        };
        technique
            .tactics
            .iter()
            .filter_map(|shortname| self.tactic(shortname))
            .collect()
    }

    /// Returns every technique, in no particular order.
    pub fn techniques(&self) -> impl Iterator<Item = &CatalogTechnique> {
        self.techniques.values()
    }

    /// Returns every tactic, in the order of the bundle.
    pub fn tactics(&self) -> &[Tactic] {
        &self.tactics
    }

    /// Returns the number of techniques and sub-techniques.
    pub fn len(&self) -> usize {
        self.techniques.len()
    }

    /// Returns whether the bundle has no technique.
    pub fn is_empty(&self) -> bool {
        self.techniques.is_empty()
    }

    /// Returns the ATT&CK version of the collection, such as `16.1`.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// Returns the path (or the name given to [`AttackCatalog::from_reader`]).
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// A STIX object with the fields that the catalog reads. The fields are
/// JSON values, so that a value of the wrong type is reported with its path.
#[derive(Deserialize)]
#[serde(expecting = "a STIX object")]
struct RawObject {
    #[serde(rename = "type")]
    kind: Option<Value>,
    name: Option<Value>,
    external_references: Option<Value>,
    kill_chain_phases: Option<Value>,
    x_mitre_deprecated: Option<Value>,
    revoked: Option<Value>,
    x_mitre_shortname: Option<Value>,
    x_mitre_version: Option<Value>,
}

/// The state of a bundle while its objects stream past.
struct Builder {
    path: String,
    /// The position of the current object in `objects`.
    index: usize,
    bundle_type: Option<Value>,
    saw_objects: bool,
    version: Option<String>,
    techniques: HashMap<TechniqueId, CatalogTechnique>,
    tactics: Vec<Tactic>,
    duplicates: usize,
    without_id: usize,
    /// The validation error that stopped the stream.
    error: Option<IntelError>,
}

impl Builder {
    fn new(path: &str) -> Builder {
        Builder {
            path: path.to_string(),
            index: 0,
            bundle_type: None,
            saw_objects: false,
            version: None,
            techniques: HashMap::new(),
            tactics: Vec::new(),
            duplicates: 0,
            without_id: 0,
            error: None,
        }
    }

    fn location(&self, field: &str) -> String {
        format!("objects[{}].{field}", self.index)
    }

    fn text<'v>(&self, value: Option<&'v Value>, field: &str) -> Result<Option<&'v str>, IntelError> {
        as_text(&self.path, value, || self.location(field))
    }

    fn flag(&self, value: &Option<Value>, field: &str) -> Result<bool, IntelError> {
        match value {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(flag)) => Ok(*flag),
            Some(other) => Err(wrong_type(&self.path, self.location(field), "a boolean", other)),
        }
    }

    fn add(&mut self, raw: RawObject) -> Result<(), IntelError> {
        let kind = self
            .text(raw.kind.as_ref(), "type")?
            .ok_or_else(|| invalid(&self.path, self.location("type"), "the field is missing".to_string()))?;
        match kind {
            "attack-pattern" => self.add_technique(raw),
            "x-mitre-tactic" => self.add_tactic(raw),
            "x-mitre-collection" => {
                if let Some(version) = self.text(raw.x_mitre_version.as_ref(), "x_mitre_version")? {
                    self.version = Some(version.to_string());
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn add_technique(&mut self, raw: RawObject) -> Result<(), IntelError> {
        let Some((id_text, url)) = self.attack_reference(&raw)? else {
            self.without_id += 1;
            return Ok(());
        };
        let id: TechniqueId = id_text.parse().map_err(|error: super::InvalidTechniqueId| {
            invalid(&self.path, self.location("external_references"), error.to_string())
        })?;
        let name = self
            .text(raw.name.as_ref(), "name")?
            .ok_or_else(|| invalid(&self.path, self.location("name"), "the field is missing".to_string()))?;
        let technique = CatalogTechnique {
            id,
            name: name.to_string(),
            tactics: self.tactics_of(&raw)?,
            deprecated: self.flag(&raw.x_mitre_deprecated, "x_mitre_deprecated")?,
            revoked: self.flag(&raw.revoked, "revoked")?,
            url,
        };

        match self.techniques.get(&technique.id) {
            Some(existing) if existing.is_current() || !technique.is_current() => self.duplicates += 1,
            _ => {
                self.techniques.insert(technique.id.clone(), technique);
            }
        }
        Ok(())
    }

    fn add_tactic(&mut self, raw: RawObject) -> Result<(), IntelError> {
        let Some((id, url)) = self.attack_reference(&raw)? else {
            self.without_id += 1;
            return Ok(());
        };
        let shortname = self
            .text(raw.x_mitre_shortname.as_ref(), "x_mitre_shortname")?
            .ok_or_else(|| {
                invalid(
                    &self.path,
                    self.location("x_mitre_shortname"),
                    "the field is missing".to_string(),
                )
            })?;
        let name = self
            .text(raw.name.as_ref(), "name")?
            .ok_or_else(|| invalid(&self.path, self.location("name"), "the field is missing".to_string()))?;
        if self.tactics.iter().any(|tactic| tactic.shortname == shortname) {
            self.duplicates += 1;
            return Ok(());
        }
        self.tactics.push(Tactic {
            id,
            shortname: shortname.to_string(),
            name: name.to_string(),
            url,
        });
        Ok(())
    }

    /// Returns the `external_id` and `url` of the ATT&CK entry of
    /// `external_references`, or `None` when the object has no such entry.
    fn attack_reference(&self, raw: &RawObject) -> Result<Option<(String, Option<String>)>, IntelError> {
        let references = match &raw.external_references {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Array(references)) => references,
            Some(other) => {
                return Err(wrong_type(
                    &self.path,
                    self.location("external_references"),
                    "an array",
                    other,
                ));
            }
        };
        for (position, reference) in references.iter().enumerate() {
            let field = |name: &str| format!("external_references[{position}].{name}");
            if !reference.is_object() {
                return Err(wrong_type(
                    &self.path,
                    self.location(&field("")).trim_end_matches('.').to_string(),
                    "an object",
                    reference,
                ));
            }
            let source = self.text(reference.get("source_name"), &field("source_name"))?;
            if !source.is_some_and(|source| ATTACK_SOURCES.contains(&source)) {
                continue;
            }
            let Some(id) = self.text(reference.get("external_id"), &field("external_id"))? else {
                continue;
            };
            let url = self.text(reference.get("url"), &field("url"))?;
            return Ok(Some((id.trim().to_string(), url.map(str::to_string))));
        }
        Ok(None)
    }

    /// Returns the ATT&CK tactic short names of `kill_chain_phases`.
    fn tactics_of(&self, raw: &RawObject) -> Result<Vec<String>, IntelError> {
        let phases = match &raw.kill_chain_phases {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(phases)) => phases,
            Some(other) => {
                return Err(wrong_type(
                    &self.path,
                    self.location("kill_chain_phases"),
                    "an array",
                    other,
                ));
            }
        };
        let mut tactics = Vec::new();
        for (position, phase) in phases.iter().enumerate() {
            let field = |name: &str| format!("kill_chain_phases[{position}].{name}");
            if !phase.is_object() {
                return Err(wrong_type(
                    &self.path,
                    self.location(&field("")).trim_end_matches('.').to_string(),
                    "an object",
                    phase,
                ));
            }
            let chain = self.text(phase.get("kill_chain_name"), &field("kill_chain_name"))?;
            if !chain.is_some_and(|chain| ATTACK_SOURCES.contains(&chain)) {
                continue;
            }
            if let Some(tactic) = self.text(phase.get("phase_name"), &field("phase_name"))?
                && !tactics.iter().any(|known| known == tactic)
            {
                tactics.push(tactic.to_string());
            }
        }
        Ok(tactics)
    }

    fn finish(self) -> Result<AttackCatalog, IntelError> {
        let not_bundle = |reason: String| IntelError::NotFormat {
            path: self.path.clone(),
            expected: "a STIX 2.1 bundle",
            reason,
        };
        match &self.bundle_type {
            Some(Value::String(kind)) if kind == "bundle" => {}
            Some(other) => {
                return Err(not_bundle(format!(
                    "the top-level type is {}, expected \"bundle\"",
                    shorten(&other.to_string())
                )));
            }
            None => return Err(not_bundle("the top-level object has no type".to_string())),
        }
        if !self.saw_objects {
            return Err(not_bundle("the objects array is missing".to_string()));
        }

        if self.duplicates > 0 {
            tracing::warn!(
                path = self.path,
                duplicates = self.duplicates,
                "ATT&CK bundle defines some techniques or tactics more than once; the current or first one is used"
            );
        }
        if self.without_id > 0 {
            tracing::debug!(
                path = self.path,
                without_id = self.without_id,
                "ATT&CK objects without an ATT&CK id were skipped"
            );
        }
        Ok(AttackCatalog {
            path: self.path,
            version: self.version,
            techniques: self.techniques,
            tactics: self.tactics,
        })
    }
}

/// Reads the top-level bundle object, handing `objects` to [`ObjectsSeed`].
struct BundleSeed<'b>(&'b mut Builder);

impl<'de> DeserializeSeed<'de> for BundleSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BundleSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a STIX 2.1 bundle object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "type" => self.0.bundle_type = Some(map.next_value()?),
                "objects" => {
                    self.0.saw_objects = true;
                    map.next_value_seed(ObjectsSeed(&mut *self.0))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Reads `objects` one at a time, so that only the catalog stays in memory.
struct ObjectsSeed<'b>(&'b mut Builder);

impl<'de> DeserializeSeed<'de> for ObjectsSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ObjectsSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of STIX objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<RawObject>()? {
            if let Err(error) = self.0.add(raw) {
                // The builder keeps the error, which names the object; serde only needs to stop.
                self.0.error = Some(error);
                return Err(de::Error::custom("invalid STIX object"));
            }
            self.0.index += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_over_limit_is_rejected() {
        let bundle = r#"{"type": "bundle", "objects": []}"#;
        let error = AttackCatalog::read("small.json", bundle.as_bytes(), 10).unwrap_err();
        assert!(matches!(error, IntelError::TooLarge { limit: 10, .. }), "{error}");
    }

    #[test]
    fn bundle_within_limit_loads() {
        let bundle = r#"{"type": "bundle", "objects": []}"#;
        let catalog = AttackCatalog::read("small.json", bundle.as_bytes(), bundle.len() as u64).unwrap();
        assert!(catalog.is_empty());
    }
}
