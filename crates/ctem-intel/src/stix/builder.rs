//! Collecting the objects of a bundle: the serde seeds that stream the
//! `objects` array and the validation of each object read.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

use chrono::{DateTime, Utc};
use ctem_model::CveId;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::{MAX_SIGHTING_COUNT, STOPPED, StixId, StixRelationship, ThreatKind, parse_id};
use crate::error::{IntelError, shorten};
use crate::json::type_name;

/// The top-level fields of a bundle other than its objects.
#[derive(Default)]
pub(super) struct BundleHeader {
    pub(super) object_type: Option<String>,
    pub(super) id: Option<String>,
    pub(super) has_objects: bool,
}

pub(super) struct BundleSeed<'a, 'p> {
    pub(super) builder: &'a mut Builder<'p>,
}

impl<'de> DeserializeSeed<'de> for BundleSeed<'_, '_> {
    type Value = BundleHeader;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<BundleHeader, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BundleSeed<'_, '_> {
    type Value = BundleHeader;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a STIX bundle object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<BundleHeader, A::Error> {
        let mut header = BundleHeader::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "type" => header.object_type = Some(map.next_value()?),
                "id" => header.id = Some(map.next_value()?),
                "objects" => {
                    map.next_value_seed(ObjectsSeed {
                        builder: &mut *self.builder,
                    })?;
                    header.has_objects = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(header)
    }
}

/// Feeds the `objects` array to the builder one object at a time, so that
/// only one object is held as a JSON tree at once.
pub(super) struct ObjectsSeed<'a, 'p> {
    pub(super) builder: &'a mut Builder<'p>,
}

impl<'de> DeserializeSeed<'de> for ObjectsSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ObjectsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of STIX objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(object) = seq.next_element::<Value>()? {
            if let Err(error) = self.builder.add(object) {
                self.builder.error = Some(error);
                return Err(de::Error::custom(STOPPED));
            }
        }
        Ok(())
    }
}

/// A STIX object with the properties this module reads; a known type with
/// a property of the wrong JSON type fails here.
#[derive(Deserialize)]
pub(super) struct RawObject {
    pub(super) name: Option<String>,
    pub(super) created_by_ref: Option<String>,
    pub(super) modified: Option<String>,
    #[serde(default)]
    pub(super) revoked: bool,
    #[serde(default)]
    pub(super) external_references: Vec<RawExternalReference>,
    pub(super) relationship_type: Option<String>,
    pub(super) source_ref: Option<String>,
    pub(super) target_ref: Option<String>,
    pub(super) sighting_of_ref: Option<String>,
    pub(super) count: Option<u64>,
    pub(super) first_seen: Option<String>,
    pub(super) last_seen: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct RawExternalReference {
    pub(super) source_name: Option<String>,
    pub(super) external_id: Option<String>,
}

/// The part of every read object that provenance needs.
#[derive(Clone)]
pub(super) struct Common {
    pub(super) id: StixId,
    pub(super) created_by: Option<StixId>,
    pub(super) modified: DateTime<Utc>,
}

#[derive(Clone)]
pub(super) struct Threat {
    pub(super) common: Common,
    pub(super) kind: ThreatKind,
    pub(super) name: String,
}

#[derive(Clone)]
pub(super) struct Relationship {
    pub(super) common: Common,
    pub(super) kind: StixRelationship,
    pub(super) source: StixId,
    pub(super) target: StixId,
}

#[derive(Clone)]
pub(super) struct Sighting {
    pub(super) common: Common,
    pub(super) of: StixId,
    pub(super) count: Option<u32>,
    pub(super) first_seen: Option<DateTime<Utc>>,
    pub(super) last_seen: Option<DateTime<Utc>>,
}

#[derive(Clone)]
pub(super) struct Vulnerability {
    pub(super) common: Common,
    pub(super) cves: Vec<CveId>,
}

/// Collects the read objects of a bundle, then resolves links per CVE.
pub(super) struct Builder<'p> {
    pub(super) path: &'p str,
    pub(super) index: usize,
    pub(super) error: Option<IntelError>,
    pub(super) all_ids: HashSet<StixId>,
    pub(super) identities: HashMap<StixId, (DateTime<Utc>, String)>,
    pub(super) threats: HashMap<StixId, Threat>,
    pub(super) vulnerabilities: HashMap<StixId, Vulnerability>,
    pub(super) relationships: HashMap<StixId, Relationship>,
    pub(super) sightings: HashMap<StixId, Sighting>,
    pub(super) ignored_types: BTreeMap<String, usize>,
    pub(super) ignored_relationships: usize,
    pub(super) revoked: usize,
}

/// Keeps the version of an object with the latest `modified`.
pub(super) fn keep_latest<T>(
    map: &mut HashMap<StixId, T>,
    id: StixId,
    value: T,
    modified: impl Fn(&T) -> DateTime<Utc>,
) {
    match map.entry(id) {
        Entry::Vacant(slot) => {
            slot.insert(value);
        }
        Entry::Occupied(mut slot) => {
            if modified(&value) > modified(slot.get()) {
                slot.insert(value);
            }
        }
    }
}

impl<'p> Builder<'p> {
    pub(super) fn new(path: &'p str) -> Builder<'p> {
        Builder {
            path,
            index: 0,
            error: None,
            all_ids: HashSet::new(),
            identities: HashMap::new(),
            threats: HashMap::new(),
            vulnerabilities: HashMap::new(),
            relationships: HashMap::new(),
            sightings: HashMap::new(),
            ignored_types: BTreeMap::new(),
            ignored_relationships: 0,
            revoked: 0,
        }
    }

    fn invalid(&self, field: &str, reason: String) -> IntelError {
        let location = if field.is_empty() {
            format!("objects[{}]", self.index)
        } else {
            format!("objects[{}].{field}", self.index)
        };
        IntelError::Invalid {
            path: self.path.to_string(),
            location,
            reason,
        }
    }

    pub(super) fn add(&mut self, object: Value) -> Result<(), IntelError> {
        let result = self.add_object(object);
        self.index += 1;
        result
    }

    fn add_object(&mut self, object: Value) -> Result<(), IntelError> {
        let Value::Object(fields) = &object else {
            return Err(self.invalid("", format!("expected a STIX object, found {}", type_name(&object))));
        };
        let object_type = match fields.get("type") {
            Some(Value::String(text)) => text.clone(),
            Some(other) => return Err(self.invalid("type", format!("expected a string, found {}", type_name(other)))),
            None => return Err(self.invalid("type", "missing required property".into())),
        };
        let id_text = match fields.get("id") {
            Some(Value::String(text)) => text.clone(),
            Some(other) => return Err(self.invalid("id", format!("expected a string, found {}", type_name(other)))),
            None => return Err(self.invalid("id", "missing required property".into())),
        };
        let id = self.parse_id("id", &id_text, Some(&object_type))?;
        self.all_ids.insert(id.clone());

        let threat_kind = ThreatKind::parse(&object_type);
        let read = threat_kind.is_some()
            || matches!(
                object_type.as_str(),
                "vulnerability" | "relationship" | "sighting" | "identity"
            );
        if !read {
            *self.ignored_types.entry(object_type).or_default() += 1;
            return Ok(());
        }

        let raw: RawObject = serde_json::from_value(object)
            .map_err(|error| self.invalid("", format!("invalid {object_type} {id}: {error}")))?;
        if raw.revoked {
            self.revoked += 1;
            return Ok(());
        }
        let common = self.common(id.clone(), &raw)?;

        if let Some(kind) = threat_kind {
            let name = raw.name.unwrap_or_default();
            let threat = Threat { common, kind, name };
            keep_latest(&mut self.threats, id, threat, |t| t.common.modified);
            return Ok(());
        }
        match object_type.as_str() {
            "identity" => {
                let name = raw.name.unwrap_or_default();
                keep_latest(&mut self.identities, id, (common.modified, name), |(modified, _)| {
                    *modified
                });
            }
            "vulnerability" => {
                let cves = self.vulnerability_cves(&raw)?;
                keep_latest(&mut self.vulnerabilities, id, Vulnerability { common, cves }, |v| {
                    v.common.modified
                });
            }
            "relationship" => self.add_relationship(common, raw)?,
            _ => self.add_sighting(common, raw)?,
        }
        Ok(())
    }

    fn parse_id(&self, field: &str, text: &str, expected_type: Option<&str>) -> Result<StixId, IntelError> {
        let location = format!("objects[{}].{field}", self.index);
        parse_id(self.path, &location, text, expected_type)
    }

    fn parse_time(&self, field: &str, text: &str) -> Result<DateTime<Utc>, IntelError> {
        DateTime::parse_from_rfc3339(text)
            .map(|time| time.with_timezone(&Utc))
            .map_err(|_| {
                self.invalid(
                    field,
                    format!(
                        "invalid timestamp {:?}: expected RFC 3339 in UTC such as 2024-05-01T12:00:00.000Z",
                        shorten(text)
                    ),
                )
            })
    }

    fn common(&self, id: StixId, raw: &RawObject) -> Result<Common, IntelError> {
        let modified_text = raw
            .modified
            .as_deref()
            .ok_or_else(|| self.invalid("modified", "missing required property of a STIX 2.1 object".into()))?;
        let modified = self.parse_time("modified", modified_text)?;
        let created_by = raw
            .created_by_ref
            .as_deref()
            .map(|text| self.parse_id("created_by_ref", text, Some("identity")))
            .transpose()?;
        Ok(Common {
            id,
            created_by,
            modified,
        })
    }

    fn vulnerability_cves(&self, raw: &RawObject) -> Result<Vec<CveId>, IntelError> {
        let mut cves = BTreeSet::new();
        for (position, reference) in raw.external_references.iter().enumerate() {
            let is_cve = reference
                .source_name
                .as_deref()
                .is_some_and(|name| name.trim().eq_ignore_ascii_case("cve"));
            if !is_cve {
                continue;
            }
            let field = format!("external_references[{position}].external_id");
            let text = reference
                .external_id
                .as_deref()
                .ok_or_else(|| self.invalid(&field, "missing for a reference with source_name cve".into()))?;
            let cve: CveId = text.parse().map_err(|_| {
                self.invalid(
                    &field,
                    format!("invalid CVE id {:?}: expected CVE-YYYY-NNNN", shorten(text)),
                )
            })?;
            cves.insert(cve);
        }
        // A name such as "CVE-2021-44228" names the CVE; other names are descriptive.
        if let Some(cve) = raw.name.as_deref().and_then(|name| name.parse::<CveId>().ok()) {
            cves.insert(cve);
        }
        Ok(cves.into_iter().collect())
    }

    fn add_relationship(&mut self, common: Common, raw: RawObject) -> Result<(), IntelError> {
        let type_text = raw
            .relationship_type
            .ok_or_else(|| self.invalid("relationship_type", "missing required property".into()))?;
        let source_text = raw
            .source_ref
            .ok_or_else(|| self.invalid("source_ref", "missing required property".into()))?;
        let target_text = raw
            .target_ref
            .ok_or_else(|| self.invalid("target_ref", "missing required property".into()))?;
        let source = self.parse_id("source_ref", &source_text, None)?;
        let target = self.parse_id("target_ref", &target_text, None)?;

        let Some(kind) = StixRelationship::parse(&type_text) else {
            self.ignored_relationships += 1;
            return Ok(());
        };
        let id = common.id.clone();
        let relationship = Relationship {
            common,
            kind,
            source,
            target,
        };
        keep_latest(&mut self.relationships, id, relationship, |r| r.common.modified);
        Ok(())
    }

    fn add_sighting(&mut self, common: Common, raw: RawObject) -> Result<(), IntelError> {
        let of_text = raw
            .sighting_of_ref
            .ok_or_else(|| self.invalid("sighting_of_ref", "missing required property".into()))?;
        let of = self.parse_id("sighting_of_ref", &of_text, None)?;
        let count = match raw.count {
            None => None,
            Some(count) if count <= MAX_SIGHTING_COUNT => Some(count as u32),
            Some(count) => {
                return Err(self.invalid(
                    "count",
                    format!("invalid count {count}: STIX 2.1 allows 0 to {MAX_SIGHTING_COUNT}"),
                ));
            }
        };
        let first_seen = raw
            .first_seen
            .as_deref()
            .map(|text| self.parse_time("first_seen", text))
            .transpose()?;
        let last_seen = raw
            .last_seen
            .as_deref()
            .map(|text| self.parse_time("last_seen", text))
            .transpose()?;
        if let (Some(first), Some(last)) = (first_seen, last_seen)
            && last < first
        {
            return Err(self.invalid(
                "last_seen",
                format!("last_seen {last} is earlier than first_seen {first}"),
            ));
        }
        let id = common.id.clone();
        let sighting = Sighting {
            common,
            of,
            count,
            first_seen,
            last_seen,
        };
        keep_latest(&mut self.sightings, id, sighting, |s| s.common.modified);
        Ok(())
    }
}
