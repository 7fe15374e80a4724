//! Resolving the collected objects into links and sightings per CVE.

use std::collections::{BTreeMap, HashMap};

use ctem_model::CveId;

use super::builder::{Builder, Common, Relationship, Sighting};
use super::{BrokenReference, StixBundle, StixCveIntel, StixId, StixLink, StixRelationship, StixSighting, StixThreat};
use crate::provenance::{Fact, Provenance, SourceKind};

impl Builder<'_> {
    fn provenance(&self, common: &Common) -> Provenance {
        let source = Provenance::new(SourceKind::Stix, self.path, Some(common.modified.date_naive()));
        match &common.created_by {
            Some(identity) => match self.identities.get(identity) {
                Some((_, name)) if !name.is_empty() => source.by(name.clone()),
                _ => source.by(identity.as_str()),
            },
            None => source,
        }
    }

    fn public_threat(&self, id: &StixId) -> Option<StixThreat> {
        self.threats.get(id).map(|threat| StixThreat {
            kind: threat.kind,
            id: threat.common.id.clone(),
            name: threat.name.clone(),
        })
    }

    fn broken_references(&self) -> Vec<BrokenReference> {
        let mut broken = Vec::new();
        let mut check = |object: &StixId, field: &'static str, target: &StixId| {
            if !self.all_ids.contains(target) {
                broken.push(BrokenReference {
                    object: object.clone(),
                    field,
                    target: target.clone(),
                });
            }
        };
        let commons = self
            .threats
            .values()
            .map(|t| &t.common)
            .chain(self.vulnerabilities.values().map(|v| &v.common))
            .chain(self.relationships.values().map(|r| &r.common))
            .chain(self.sightings.values().map(|s| &s.common));
        for common in commons {
            if let Some(identity) = &common.created_by {
                check(&common.id, "created_by_ref", identity);
            }
        }
        for relationship in self.relationships.values() {
            check(&relationship.common.id, "source_ref", &relationship.source);
            check(&relationship.common.id, "target_ref", &relationship.target);
        }
        for sighting in self.sightings.values() {
            check(&sighting.common.id, "sighting_of_ref", &sighting.of);
        }
        broken.sort_by(|a, b| (&a.object, a.field).cmp(&(&b.object, b.field)));
        broken
    }

    pub(super) fn finish(self, bundle_id: Option<StixId>) -> StixBundle {
        let broken_references = self.broken_references();
        if !broken_references.is_empty() {
            tracing::warn!(
                path = self.path,
                broken = broken_references.len(),
                first = %broken_references[0].target,
                "STIX bundle references objects it does not contain; links through them are left out"
            );
        }

        let mut by_target: HashMap<&StixId, Vec<&Relationship>> = HashMap::new();
        let mut by_source: HashMap<&StixId, Vec<&Relationship>> = HashMap::new();
        for relationship in self.relationships.values() {
            by_target.entry(&relationship.target).or_default().push(relationship);
            by_source.entry(&relationship.source).or_default().push(relationship);
        }
        let mut sightings_of: HashMap<&StixId, Vec<&Sighting>> = HashMap::new();
        for sighting in self.sightings.values() {
            sightings_of.entry(&sighting.of).or_default().push(sighting);
        }

        let mut by_cve: BTreeMap<CveId, StixCveIntel> = BTreeMap::new();
        let mut without_cve = 0usize;
        for vulnerability in self.vulnerabilities.values() {
            if vulnerability.cves.is_empty() {
                without_cve += 1;
                continue;
            }
            let (threats, sightings) = self.resolve(&vulnerability.common.id, &by_target, &by_source, &sightings_of);
            for cve in &vulnerability.cves {
                let entry = by_cve.entry(cve.clone()).or_insert_with(|| StixCveIntel {
                    cve: cve.clone(),
                    vulnerabilities: Vec::new(),
                    threats: Vec::new(),
                    sightings: Vec::new(),
                });
                entry.vulnerabilities.push(vulnerability.common.id.clone());
                entry.threats.extend(threats.iter().cloned());
                entry.sightings.extend(sightings.iter().cloned());
            }
        }
        for intel in by_cve.values_mut() {
            intel.vulnerabilities.sort();
            intel
                .threats
                .sort_by(|a, b| link_key(&a.value).cmp(&link_key(&b.value)));
            intel.threats.dedup_by(|a, b| link_key(&a.value) == link_key(&b.value));
            intel.sightings.sort_by(|a, b| a.value.id.cmp(&b.value.id));
            intel.sightings.dedup_by(|a, b| a.value.id == b.value.id);
        }

        tracing::debug!(
            path = self.path,
            cves = by_cve.len(),
            ignored_types = self.ignored_types.values().sum::<usize>(),
            ignored_relationships = self.ignored_relationships,
            revoked = self.revoked,
            "STIX bundle loaded"
        );
        StixBundle {
            path: self.path.to_string(),
            bundle_id,
            object_count: self.index,
            by_cve,
            ignored_types: self.ignored_types,
            broken_references,
            vulnerabilities_without_cve: without_cve,
            revoked: self.revoked,
        }
    }

    /// Finds the threats and sightings of one vulnerability object.
    fn resolve(
        &self,
        vulnerability: &StixId,
        by_target: &HashMap<&StixId, Vec<&Relationship>>,
        by_source: &HashMap<&StixId, Vec<&Relationship>>,
        sightings_of: &HashMap<&StixId, Vec<&Sighting>>,
    ) -> (Vec<Fact<StixLink>>, Vec<Fact<StixSighting>>) {
        let mut links = Vec::new();
        let mut sighted = vec![vulnerability.clone()];

        let direct = by_target.get(vulnerability).into_iter().flatten();
        for relationship in direct.filter(|r| matches!(r.kind, StixRelationship::Targets | StixRelationship::Exploits))
        {
            let Some(threat) = self.public_threat(&relationship.source) else {
                continue;
            };
            sighted.push(threat.id.clone());

            // One hop: who uses this threat, and whom it is attributed to.
            let users = by_target.get(&threat.id).into_iter().flatten();
            for hop in users.filter(|r| r.kind == StixRelationship::Uses) {
                if let Some(user) = self.public_threat(&hop.source) {
                    let link = StixLink {
                        threat: user,
                        relationship: StixRelationship::Uses,
                        via: Some(threat.clone()),
                    };
                    links.push(Fact::new(link, self.provenance(&hop.common)));
                }
            }
            let attributions = by_source.get(&threat.id).into_iter().flatten();
            for hop in attributions.filter(|r| r.kind == StixRelationship::AttributedTo) {
                if let Some(owner) = self.public_threat(&hop.target) {
                    let link = StixLink {
                        threat: owner,
                        relationship: StixRelationship::AttributedTo,
                        via: Some(threat.clone()),
                    };
                    links.push(Fact::new(link, self.provenance(&hop.common)));
                }
            }

            let link = StixLink {
                threat,
                relationship: relationship.kind,
                via: None,
            };
            links.push(Fact::new(link, self.provenance(&relationship.common)));
        }

        let mut sightings = Vec::new();
        for of in &sighted {
            for sighting in sightings_of.get(of).into_iter().flatten() {
                let value = StixSighting {
                    id: sighting.common.id.clone(),
                    sighting_of: sighting.of.clone(),
                    sighting_of_name: self.threats.get(of).map(|t| t.name.clone()),
                    count: sighting.count,
                    first_seen: sighting.first_seen,
                    last_seen: sighting.last_seen,
                };
                sightings.push(Fact::new(value, self.provenance(&sighting.common)));
            }
        }
        (links, sightings)
    }
}

fn link_key(link: &StixLink) -> (&str, &StixId, StixRelationship, Option<&StixId>) {
    (
        link.threat.name.as_str(),
        &link.threat.id,
        link.relationship,
        link.via.as_ref().map(|via| &via.id),
    )
}
