//! STIX 2.1 bundles from any provider: which threat actors, malware and
//! campaigns target or exploit a CVE, and where it was sighted.
//!
//! Specification: STIX Version 2.1, OASIS Standard, 10 June 2021
//! (<https://docs.oasis-open.org/cti/stix/v2.1/os/stix-v2.1-os.html>).
//! A bundle is `{"type": "bundle", "id": "bundle--UUID", "objects": [...]}`.
//! The objects read are:
//!
//! - `vulnerability`: its CVE ids come from `external_references[]` entries
//!   whose `source_name` is `cve` (the `external_id`) and from a `name` that
//!   is a CVE id. A vulnerability without a CVE id is counted and not used.
//! - the threats `intrusion-set`, `threat-actor`, `malware`, `campaign`,
//!   `tool` and `attack-pattern`: their `name`;
//! - `relationship` of type `targets`, `exploits`, `uses` and `attributed-to`;
//! - `sighting`: `sighting_of_ref`, `count`, `first_seen`, `last_seen`;
//! - `identity`: its `name` is the author of the objects whose
//!   `created_by_ref` points at it.
//!
//! How links are resolved, per CVE:
//! - a threat with a `targets` or `exploits` relationship to the vulnerability
//!   is a direct link;
//! - one hop further, a threat that `uses` a directly linked threat, and the
//!   threat that a directly linked one is `attributed-to`, are linked through
//!   it ([`StixLink::via`]). Longer chains are not followed;
//! - sightings of the vulnerability and of directly linked threats.
//!
//! Each link and sighting is a [`Fact`] whose [`Provenance`](crate::Provenance)
//! has kind [`SourceKind::Stix`](crate::SourceKind::Stix), the name of the `created_by_ref` identity as author
//! (the identity id when the bundle lacks that identity) and the UTC day of
//! `modified` as date. The relationship that states a link gives its
//! provenance; for a link through another threat that is the `uses` or
//! `attributed-to` relationship.
//!
//! Validation: an object without a `type`, with an `id` that is not
//! `type--UUID` of its own type, or a read object with a missing or invalid
//! field rejects the bundle with an error naming `objects[N]` and the field.
//! Objects of other types (indicators, reports, observables, custom types)
//! are counted in [`StixBundle::ignored_types`]. References to objects that
//! the bundle does not contain are no error, because providers split data
//! across bundles: they are listed in [`StixBundle::broken_references`] and
//! logged once as a warning. Objects with `revoked: true` are skipped. When
//! a bundle contains several versions of one object, the latest `modified` wins.
//!
//! Not read: `spec_version` (STIX 2.0 bundles load the same way), granular
//! markings, confidence, kill chains, aliases and other descriptive fields,
//! and relationship types other than the four above.

mod builder;
mod resolve;

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use ctem_model::CveId;
use serde::de::DeserializeSeed;
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::error::{IntelError, shorten};
use crate::json::{check_depth, json_error, read_limited};
use crate::provenance::Fact;
use crate::walk::open_file;
use builder::{Builder, BundleSeed};

/// The largest bundle that [`StixBundle::load`] reads, which bounds memory.
/// NOTE: the figure is an estimate. Public bundles such as MITRE ATT&CK
/// Enterprise are tens of megabytes, so the limit leaves room for larger exports.
pub const STIX_MAX_BYTES: u64 = 256 * 1024 * 1024;

/// The deepest nesting of arrays and objects accepted in a bundle. STIX
/// objects are flat (a bundle, its objects, their lists of references and
/// extensions reach about eight levels), so deeper input is corrupt or hostile.
pub const STIX_MAX_DEPTH: usize = 64;

/// The largest `count` of a sighting that STIX 2.1 allows (section 5.2).
const MAX_SIGHTING_COUNT: u64 = 999_999_999;

/// Marker error that stops serde after a STIX validation error, which is
/// kept aside and returned in its place.
const STOPPED: &str = "stopped at an invalid STIX object";

/// A STIX identifier: `object-type--UUID`, such as
/// `malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StixId(String);

impl StixId {
    /// Returns the identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns the object type before `--`, such as `malware`.
    pub fn object_type(&self) -> &str {
        self.0.split_once("--").map_or("", |(kind, _)| kind)
    }
}

impl FromStr for StixId {
    type Err = String;

    /// Parses `type--UUID`. The type is 3 to 250 characters of lower-case
    /// ASCII letters, digits and hyphens (STIX 2.1 section 2.9). The UUID is
    /// the RFC 4122 text form, compared in lower case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let Some((kind, uuid)) = text.split_once("--") else {
            return Err("expected object-type--UUID, such as malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061".into());
        };
        let kind_valid = (3..=250).contains(&kind.len())
            && kind
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !kind_valid {
            return Err("the object type must be 3 to 250 lower-case letters, digits and hyphens".into());
        }
        if !is_uuid(uuid) {
            return Err("the part after -- must be a UUID such as 0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061".into());
        }
        Ok(StixId(format!("{kind}--{}", uuid.to_ascii_lowercase())))
    }
}

impl fmt::Display for StixId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for StixId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    groups.len() == lengths.len()
        && groups
            .iter()
            .zip(lengths)
            .all(|(group, length)| group.len() == length && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The STIX object types that can target or exploit a vulnerability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThreatKind {
    IntrusionSet,
    ThreatActor,
    Malware,
    Campaign,
    Tool,
    AttackPattern,
}

impl ThreatKind {
    /// Returns the STIX object type, such as `intrusion-set`.
    pub fn as_str(self) -> &'static str {
        match self {
            ThreatKind::IntrusionSet => "intrusion-set",
            ThreatKind::ThreatActor => "threat-actor",
            ThreatKind::Malware => "malware",
            ThreatKind::Campaign => "campaign",
            ThreatKind::Tool => "tool",
            ThreatKind::AttackPattern => "attack-pattern",
        }
    }

    fn parse(object_type: &str) -> Option<ThreatKind> {
        Some(match object_type {
            "intrusion-set" => ThreatKind::IntrusionSet,
            "threat-actor" => ThreatKind::ThreatActor,
            "malware" => ThreatKind::Malware,
            "campaign" => ThreatKind::Campaign,
            "tool" => ThreatKind::Tool,
            "attack-pattern" => ThreatKind::AttackPattern,
            _ => return None,
        })
    }
}

/// The STIX relationship types that link threats to vulnerabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StixRelationship {
    /// `targets`: the threat targets the vulnerability.
    Targets,
    /// `exploits`: the malware exploits the vulnerability.
    Exploits,
    /// `uses`: the threat uses a threat that targets or exploits the vulnerability.
    Uses,
    /// `attributed-to`: a campaign or intrusion set that targets or exploits
    /// the vulnerability is attributed to the threat.
    AttributedTo,
}

impl StixRelationship {
    /// Returns the STIX `relationship_type`, such as `attributed-to`.
    pub fn as_str(self) -> &'static str {
        match self {
            StixRelationship::Targets => "targets",
            StixRelationship::Exploits => "exploits",
            StixRelationship::Uses => "uses",
            StixRelationship::AttributedTo => "attributed-to",
        }
    }

    fn parse(relationship_type: &str) -> Option<StixRelationship> {
        Some(match relationship_type {
            "targets" => StixRelationship::Targets,
            "exploits" => StixRelationship::Exploits,
            "uses" => StixRelationship::Uses,
            "attributed-to" => StixRelationship::AttributedTo,
            _ => return None,
        })
    }
}

/// A threat object of the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StixThreat {
    pub kind: ThreatKind,
    pub id: StixId,
    /// The `name`, empty when the object has none.
    pub name: String,
}

/// A threat linked to a CVE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StixLink {
    pub threat: StixThreat,
    /// `targets` or `exploits` for a direct link; `uses` or `attributed-to`
    /// for a link through [`StixLink::via`].
    pub relationship: StixRelationship,
    /// The directly linked threat that connects [`StixLink::threat`] to the
    /// CVE: the threat uses it, or it is attributed to the threat.
    pub via: Option<StixThreat>,
}

/// A sighting of a vulnerability or of a threat linked to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StixSighting {
    pub id: StixId,
    /// `sighting_of_ref`: the vulnerability or threat that was seen.
    pub sighting_of: StixId,
    /// The name of the sighted object, where the bundle has one.
    pub sighting_of_name: Option<String>,
    /// How often it was seen, from 0 to 999,999,999; `None` when unstated.
    pub count: Option<u32>,
    pub first_seen: Option<DateTime<Utc>>,
    pub last_seen: Option<DateTime<Utc>>,
}

/// The threats and sightings that a bundle links to one CVE.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StixCveIntel {
    pub cve: CveId,
    /// The vulnerability objects that name the CVE.
    pub vulnerabilities: Vec<StixId>,
    /// Threats that target or exploit the CVE, directly or one hop away,
    /// sorted by threat name and id.
    pub threats: Vec<Fact<StixLink>>,
    /// Sightings of the vulnerability and of the threats linked directly.
    pub sightings: Vec<Fact<StixSighting>>,
}

/// A reference to an object that the bundle does not contain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenReference {
    /// The object that contains the reference.
    pub object: StixId,
    /// The property, such as `target_ref`.
    pub field: &'static str,
    /// The missing object.
    pub target: StixId,
}

/// A loaded STIX bundle, indexed by CVE.
#[derive(Debug, Clone)]
pub struct StixBundle {
    path: String,
    bundle_id: Option<StixId>,
    object_count: usize,
    by_cve: BTreeMap<CveId, StixCveIntel>,
    ignored_types: BTreeMap<String, usize>,
    broken_references: Vec<BrokenReference>,
    vulnerabilities_without_cve: usize,
    revoked: usize,
}

impl StixBundle {
    /// Loads a STIX 2.1 bundle from a JSON file.
    pub fn load(path: impl AsRef<Path>) -> Result<StixBundle, IntelError> {
        let (file, display) = open_file(path.as_ref())?;
        StixBundle::from_reader(&display, file)
    }

    /// Reads a STIX 2.1 bundle from `reader`; `path_for_errors` names the
    /// source in errors and in each fact's provenance.
    pub fn from_reader(path_for_errors: &str, reader: impl Read) -> Result<StixBundle, IntelError> {
        let path = path_for_errors;
        let bytes = read_limited(path, reader, STIX_MAX_BYTES, "STIX bundle")?;
        check_depth(path, &bytes, STIX_MAX_DEPTH, "STIX")?;

        let mut builder = Builder::new(path);
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let header = BundleSeed { builder: &mut builder }
            .deserialize(&mut deserializer)
            .and_then(|header| deserializer.end().map(|()| header));
        let header = match header {
            Ok(header) => header,
            Err(error) => {
                return Err(builder
                    .error
                    .take()
                    .unwrap_or_else(|| json_error(path, &error, "STIX bundle")));
            }
        };

        if header.object_type.as_deref() != Some("bundle") {
            let found = header
                .object_type
                .as_deref()
                .map_or("no type".to_string(), |t| format!("type {t:?}"));
            return Err(not_stix(
                path,
                &format!("expected \"type\": \"bundle\", found {}", shorten(&found)),
            ));
        }
        if !header.has_objects {
            return Err(not_stix(path, "the objects array is missing"));
        }
        let bundle_id = header
            .id
            .map(|text| parse_id(path, "id", &text, Some("bundle")))
            .transpose()?;
        Ok(builder.finish(bundle_id))
    }

    /// Builds a bundle from objects already parsed, such as the objects of a
    /// TAXII collection; `path_for_errors` names their source (a URL).
    pub fn from_objects(path_for_errors: &str, objects: Vec<Value>) -> Result<StixBundle, IntelError> {
        let mut builder = Builder::new(path_for_errors);
        for object in objects {
            builder.add(object)?;
        }
        Ok(builder.finish(None))
    }

    /// Returns what the bundle states about a CVE.
    pub fn get(&self, cve: &CveId) -> Option<&StixCveIntel> {
        self.by_cve.get(cve)
    }

    /// Returns every CVE the bundle names, in CVE id order.
    pub fn cves(&self) -> impl Iterator<Item = &StixCveIntel> {
        self.by_cve.values()
    }

    /// Returns the path (or the name given to [`StixBundle::from_reader`]).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Returns the bundle `id`, absent for [`StixBundle::from_objects`].
    pub fn bundle_id(&self) -> Option<&StixId> {
        self.bundle_id.as_ref()
    }

    /// Returns the number of objects in the bundle, of every type.
    pub fn object_count(&self) -> usize {
        self.object_count
    }

    /// Returns how many objects of each type that is not read were skipped.
    pub fn ignored_types(&self) -> &BTreeMap<String, usize> {
        &self.ignored_types
    }

    /// Returns the references to objects missing from the bundle.
    pub fn broken_references(&self) -> &[BrokenReference] {
        &self.broken_references
    }

    /// Returns how many vulnerability objects name no CVE.
    pub fn vulnerabilities_without_cve(&self) -> usize {
        self.vulnerabilities_without_cve
    }

    /// Returns how many objects were skipped because they are revoked.
    pub fn revoked(&self) -> usize {
        self.revoked
    }
}

fn not_stix(path: &str, reason: &str) -> IntelError {
    IntelError::NotFormat {
        path: path.to_string(),
        expected: "a STIX 2.1 bundle",
        reason: reason.to_string(),
    }
}

fn parse_id(path: &str, location: &str, text: &str, expected_type: Option<&str>) -> Result<StixId, IntelError> {
    let invalid = |reason: String| IntelError::Invalid {
        path: path.to_string(),
        location: location.to_string(),
        reason: format!("invalid STIX id {:?}: {reason}", shorten(text)),
    };
    let id: StixId = text.parse().map_err(invalid)?;
    if let Some(expected) = expected_type
        && id.object_type() != expected
    {
        return Err(invalid(format!("expected an id of type {expected}")));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_accepts_type_and_uuid() {
        let id: StixId = "malware--0C7B5B88-8ff7-4a4d-aa9d-feb398cd0061".parse().unwrap();
        assert_eq!(id.object_type(), "malware");
        assert_eq!(id.as_str(), "malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061");
    }

    #[test]
    fn id_rejects_bad_forms() {
        for text in [
            "malware",
            "malware--",
            "malware--1234",
            "Malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
            "ab--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061",
            "malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd006g",
            "malware--0c7b5b888ff74a4daa9dfeb398cd0061",
        ] {
            assert!(text.parse::<StixId>().is_err(), "{text} should be rejected");
        }
    }

    #[test]
    fn relationship_names_round_trip() {
        for kind in [
            StixRelationship::Targets,
            StixRelationship::Exploits,
            StixRelationship::Uses,
            StixRelationship::AttributedTo,
        ] {
            assert_eq!(StixRelationship::parse(kind.as_str()), Some(kind));
        }
    }
}
