//! OSV advisories (JSON), and a store that maps aliases both ways.
//!
//! Format: the Open Source Vulnerability schema
//! (<https://ossf.github.io/osv-schema/>), one JSON object per advisory, as
//! GitHub (GHSA), PyPA (PYSEC), RustSec, Go and the OSV.dev exports publish
//! them. Fields read:
//!
//! - `id`, `aliases[]`, `modified`, `published`, `withdrawn`, `summary`;
//! - `severity[]`: `type` and `score`, where `CVSS_V2`, `CVSS_V3` and
//!   `CVSS_V4` scores are vectors parsed into [`CvssVector`] and other types
//!   (`Ubuntu`) keep their text;
//! - `affected[]`: `package` (`ecosystem`, `name`, `purl`), `ranges[]`
//!   (`type` `SEMVER`, `ECOSYSTEM` or `GIT`, `repo`, and `events[]` of
//!   `introduced`, `fixed`, `last_affected` and `limit`), `versions[]` and a
//!   per-package `severity[]`;
//! - `database_specific.cwe_ids[]`, as GitHub advisories carry them.
//!
//! Not read: `details`, `related`, `upstream`, `references`, `credits`,
//! `ecosystem_specific` and other `database_specific` fields. Versions stay
//! the ecosystem's strings; comparing them is left to the matcher.
//!
//! Validation: an error naming the JSON path rejects the record when `id`
//! or `modified` is missing, or when a timestamp, alias, CVSS vector, CWE id
//! or purl is invalid. Ranges are rejected for an unknown type, a `GIT` type
//! without `repo`, and events with no key or several. [`OsvStore::load_dir`] lists such records as
//! skipped and loads the others, since one bad advisory among thousands
//! should not hide the rest.
//!
//! [`OsvStore::aliases`] follows alias links in both directions and through
//! other advisories: a PYSEC record that aliases a GHSA, which aliases a
//! CVE, connects all three. Withdrawn advisories add no links.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::io::Read;
use std::path::Path;

use chrono::{DateTime, Utc};
use ctem_model::{CveId, CvssVector, CvssVersion, Cwe, Purl, VulnerabilityId};
use serde::{Deserialize, Serialize};

use crate::bundle::Skipped;
use crate::error::{IntelError, shorten};
use crate::json::{check_depth, json_error, read_limited};
use crate::provenance::{Fact, Provenance, SourceKind};
use crate::walk::{list_files, load_each, open_file};

/// The largest OSV record read. Advisories are a few kilobytes; those that
/// list every affected version of a large package reach a few megabytes.
pub const OSV_MAX_RECORD_BYTES: u64 = 32 * 1024 * 1024;

/// The maximum number of records that [`OsvStore::load_dir`] reads.
/// NOTE: the figure is an estimate with room above a full OSV.dev export
/// (several hundred thousand advisories across ecosystems).
pub const OSV_MAX_RECORDS: usize = 2_000_000;

/// The deepest JSON nesting accepted: OSV records nest about six levels.
const MAX_DEPTH: usize = 32;

/// The maximum number of advisories one [`OsvStore::aliases`] query visits, which bounds
/// the work on a hostile set of records that alias each other in a long chain.
const MAX_ALIAS_GROUP: usize = 1_000;

/// The kind of a severity score.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum OsvSeverityKind {
    CvssV2,
    CvssV3,
    CvssV4,
    /// `Ubuntu` or another type that the schema adds later, as written.
    Other(String),
}

/// One severity score of an advisory or of an affected package.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OsvSeverity {
    pub kind: OsvSeverityKind,
    /// The `score` as written: a CVSS vector or a word such as `medium`.
    pub score: String,
    /// The parsed vector for the CVSS kinds.
    pub vector: Option<CvssVector>,
}

/// The package an `affected` entry names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OsvPackage {
    /// The ecosystem, such as `PyPI`, `npm`, `Maven` or `Debian:12`.
    pub ecosystem: String,
    pub name: String,
    pub purl: Option<Purl>,
}

/// The versioning scheme of a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OsvRangeKind {
    /// Semantic Versioning 2.0.
    Semver,
    /// The ecosystem's own version order.
    Ecosystem,
    /// Commit hashes of the Git repository in [`OsvRange::repo`].
    Git,
}

/// One event of a range, in the order of the record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OsvEvent {
    /// The first affected version; `0` means every version before the fix.
    Introduced(String),
    /// The first version without the vulnerability.
    Fixed(String),
    /// The last affected version, where no fix exists yet.
    LastAffected(String),
    /// The upper limit of the range, for Git branches.
    Limit(String),
}

/// A range of affected versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OsvRange {
    pub kind: OsvRangeKind,
    /// The repository URL of a `GIT` range.
    pub repo: Option<String>,
    pub events: Vec<OsvEvent>,
}

/// An `affected` entry: a package and the versions the advisory covers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OsvAffected {
    pub package: Option<OsvPackage>,
    pub ranges: Vec<OsvRange>,
    /// Affected versions listed one by one.
    pub versions: Vec<String>,
    /// Severity that applies to this package only.
    pub severity: Vec<OsvSeverity>,
}

/// One validated OSV advisory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OsvRecord {
    pub id: VulnerabilityId,
    /// The file (or the name given to [`OsvRecord::from_reader`]).
    pub path: String,
    pub schema_version: Option<String>,
    pub modified: DateTime<Utc>,
    pub published: Option<DateTime<Utc>>,
    /// When the advisory was withdrawn; a withdrawn advisory is no longer valid.
    pub withdrawn: Option<DateTime<Utc>>,
    pub aliases: Vec<VulnerabilityId>,
    pub summary: String,
    pub severity: Vec<OsvSeverity>,
    pub affected: Vec<OsvAffected>,
    /// `database_specific.cwe_ids`.
    pub cwes: Vec<Cwe>,
}

#[derive(Deserialize)]
struct RawRecord {
    schema_version: Option<String>,
    id: Option<String>,
    modified: Option<String>,
    published: Option<String>,
    withdrawn: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    summary: Option<String>,
    #[serde(default)]
    severity: Vec<RawSeverity>,
    #[serde(default)]
    affected: Vec<RawAffected>,
    /// Free-form by the schema, so a value of any shape is accepted.
    database_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawSeverity {
    #[serde(rename = "type")]
    kind: Option<String>,
    score: Option<String>,
}

#[derive(Deserialize)]
struct RawAffected {
    package: Option<RawPackage>,
    #[serde(default)]
    ranges: Vec<RawRange>,
    #[serde(default)]
    versions: Vec<String>,
    #[serde(default)]
    severity: Vec<RawSeverity>,
}

#[derive(Deserialize)]
struct RawPackage {
    ecosystem: Option<String>,
    name: Option<String>,
    purl: Option<String>,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: Option<String>,
    repo: Option<String>,
    #[serde(default)]
    events: Vec<RawEvent>,
}

#[derive(Deserialize)]
struct RawEvent {
    introduced: Option<String>,
    fixed: Option<String>,
    last_affected: Option<String>,
    limit: Option<String>,
}

impl OsvRecord {
    /// Loads one OSV advisory from a JSON file.
    pub fn load(path: impl AsRef<Path>) -> Result<OsvRecord, IntelError> {
        let (file, display) = open_file(path.as_ref())?;
        OsvRecord::from_reader(&display, file)
    }

    /// Reads one OSV advisory from `reader`; `path_for_errors` names the
    /// source in errors and provenance.
    pub fn from_reader(path_for_errors: &str, reader: impl Read) -> Result<OsvRecord, IntelError> {
        let path = path_for_errors;
        let bytes = read_limited(path, reader, OSV_MAX_RECORD_BYTES, "OSV record")?;
        check_depth(path, &bytes, MAX_DEPTH, "OSV")?;
        // serde would also fill the record from a JSON array, field by field.
        let first = bytes.iter().find(|byte| !byte.is_ascii_whitespace());
        if first.is_some_and(|&byte| byte != b'{') {
            return Err(IntelError::NotFormat {
                path: path.to_string(),
                expected: "an OSV record",
                reason: "expected a JSON object".into(),
            });
        }
        let raw: RawRecord = serde_json::from_slice(&bytes).map_err(|error| json_error(path, &error, "OSV record"))?;
        convert(path, raw)
    }

    /// Returns the provenance of the advisory's facts: the database that
    /// publishes it (the id prefix, such as `GHSA`) and the `modified` day.
    pub fn provenance(&self) -> Provenance {
        let database = self.id.as_str().split('-').next().unwrap_or_default();
        Provenance::new(SourceKind::Osv, &self.path, Some(self.modified.date_naive())).by(database)
    }

    /// Returns the CVSS vectors of the advisory and of its affected packages.
    pub fn cvss_facts(&self) -> Vec<Fact<CvssVector>> {
        let source = self.provenance();
        let all = self
            .severity
            .iter()
            .chain(self.affected.iter().flat_map(|a| a.severity.iter()));
        let mut facts: Vec<Fact<CvssVector>> = Vec::new();
        for vector in all.filter_map(|severity| severity.vector.clone()) {
            if facts.iter().all(|fact| fact.value != vector) {
                facts.push(Fact::new(vector, source.clone()));
            }
        }
        facts
    }

    /// Returns the CVE ids among the id and the aliases.
    pub fn cves(&self) -> Vec<CveId> {
        std::iter::once(&self.id)
            .chain(&self.aliases)
            .filter_map(VulnerabilityId::as_cve)
            .cloned()
            .collect()
    }
}

fn invalid(path: &str, location: &str, reason: String) -> IntelError {
    IntelError::Invalid {
        path: path.to_string(),
        location: location.to_string(),
        reason,
    }
}

fn parse_time(path: &str, field: &str, text: &str) -> Result<DateTime<Utc>, IntelError> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|time| time.with_timezone(&Utc))
        .map_err(|_| {
            invalid(
                path,
                field,
                format!(
                    "invalid timestamp {:?}: expected RFC 3339 such as 2024-05-01T12:00:00Z",
                    shorten(text)
                ),
            )
        })
}

fn convert(path: &str, raw: RawRecord) -> Result<OsvRecord, IntelError> {
    let id_text = raw
        .id
        .ok_or_else(|| invalid(path, "id", "missing required field".into()))?;
    let id: VulnerabilityId = id_text.parse().map_err(|_| {
        invalid(
            path,
            "id",
            format!(
                "invalid id {:?}: expected an id such as GHSA-xxxx-xxxx-xxxx",
                shorten(&id_text)
            ),
        )
    })?;
    let modified_text = raw
        .modified
        .ok_or_else(|| invalid(path, "modified", "missing required field".into()))?;
    let modified = parse_time(path, "modified", &modified_text)?;
    let published = raw
        .published
        .map(|text| parse_time(path, "published", &text))
        .transpose()?;
    let withdrawn = raw
        .withdrawn
        .map(|text| parse_time(path, "withdrawn", &text))
        .transpose()?;

    let mut aliases: Vec<VulnerabilityId> = Vec::new();
    for (index, text) in raw.aliases.iter().enumerate() {
        let alias: VulnerabilityId = text.parse().map_err(|_| {
            invalid(
                path,
                &format!("aliases[{index}]"),
                format!("invalid id {:?}: expected an id such as CVE-2021-44228", shorten(text)),
            )
        })?;
        if alias != id && !aliases.contains(&alias) {
            aliases.push(alias);
        }
    }

    let severity = convert_severities(path, "severity", raw.severity)?;
    let affected = raw
        .affected
        .into_iter()
        .enumerate()
        .map(|(index, affected)| convert_affected(path, &format!("affected[{index}]"), affected))
        .collect::<Result<Vec<_>, _>>()?;
    let cwes = convert_cwes(path, raw.database_specific)?;

    Ok(OsvRecord {
        id,
        path: path.to_string(),
        schema_version: raw.schema_version,
        modified,
        published,
        withdrawn,
        aliases,
        summary: raw.summary.unwrap_or_default(),
        severity,
        affected,
        cwes,
    })
}

fn convert_severities(path: &str, location: &str, raw: Vec<RawSeverity>) -> Result<Vec<OsvSeverity>, IntelError> {
    let mut severities = Vec::with_capacity(raw.len());
    for (index, severity) in raw.into_iter().enumerate() {
        let entry = format!("{location}[{index}]");
        let kind_text = severity
            .kind
            .ok_or_else(|| invalid(path, &format!("{entry}.type"), "missing required field".into()))?;
        let score = severity
            .score
            .ok_or_else(|| invalid(path, &format!("{entry}.score"), "missing required field".into()))?;
        let (kind, versions): (OsvSeverityKind, &[CvssVersion]) = match kind_text.as_str() {
            "CVSS_V2" => (OsvSeverityKind::CvssV2, &[CvssVersion::V2]),
            "CVSS_V3" => (OsvSeverityKind::CvssV3, &[CvssVersion::V30, CvssVersion::V31]),
            "CVSS_V4" => (OsvSeverityKind::CvssV4, &[CvssVersion::V40]),
            _ => (OsvSeverityKind::Other(kind_text.clone()), &[]),
        };

        let vector = if versions.is_empty() {
            None
        } else {
            let vector: CvssVector = score.parse().map_err(|error: ctem_model::CvssError| {
                invalid(
                    path,
                    &format!("{entry}.score"),
                    format!("invalid CVSS vector {:?}: {}", shorten(&score), error.reason),
                )
            })?;
            if !versions.contains(&vector.version()) {
                return Err(invalid(
                    path,
                    &format!("{entry}.score"),
                    format!(
                        "{kind_text} contains a CVSS {} vector {:?}",
                        vector.version().as_str(),
                        shorten(&score)
                    ),
                ));
            }
            Some(vector)
        };
        severities.push(OsvSeverity { kind, score, vector });
    }
    Ok(severities)
}

fn convert_affected(path: &str, location: &str, raw: RawAffected) -> Result<OsvAffected, IntelError> {
    let package = raw
        .package
        .map(|package| {
            let field = |name: &str| format!("{location}.package.{name}");
            let ecosystem = package
                .ecosystem
                .filter(|text| !text.trim().is_empty())
                .ok_or_else(|| invalid(path, &field("ecosystem"), "missing required field".into()))?;
            let name = package
                .name
                .filter(|text| !text.trim().is_empty())
                .ok_or_else(|| invalid(path, &field("name"), "missing required field".into()))?;
            let purl = package
                .purl
                .map(|text| {
                    text.parse::<Purl>()
                        .map_err(|error| invalid(path, &field("purl"), shorten(&error.to_string())))
                })
                .transpose()?;
            Ok::<_, IntelError>(OsvPackage { ecosystem, name, purl })
        })
        .transpose()?;

    let mut ranges = Vec::with_capacity(raw.ranges.len());
    for (index, range) in raw.ranges.into_iter().enumerate() {
        ranges.push(convert_range(path, &format!("{location}.ranges[{index}]"), range)?);
    }
    let severity = convert_severities(path, &format!("{location}.severity"), raw.severity)?;
    Ok(OsvAffected {
        package,
        ranges,
        versions: raw.versions,
        severity,
    })
}

fn convert_range(path: &str, location: &str, raw: RawRange) -> Result<OsvRange, IntelError> {
    let kind = match raw.kind.as_deref() {
        Some("SEMVER") => OsvRangeKind::Semver,
        Some("ECOSYSTEM") => OsvRangeKind::Ecosystem,
        Some("GIT") => OsvRangeKind::Git,
        Some(other) => {
            return Err(invalid(
                path,
                &format!("{location}.type"),
                format!(
                    "invalid range type {:?}: expected SEMVER, ECOSYSTEM or GIT",
                    shorten(other)
                ),
            ));
        }
        None => {
            return Err(invalid(
                path,
                &format!("{location}.type"),
                "missing required field".into(),
            ));
        }
    };
    if kind == OsvRangeKind::Git && raw.repo.as_deref().is_none_or(|repo| repo.trim().is_empty()) {
        return Err(invalid(
            path,
            &format!("{location}.repo"),
            "a GIT range needs the repository URL".into(),
        ));
    }
    if raw.events.is_empty() {
        return Err(invalid(
            path,
            &format!("{location}.events"),
            "a range needs at least one event".into(),
        ));
    }

    let mut events = Vec::with_capacity(raw.events.len());
    for (index, event) in raw.events.into_iter().enumerate() {
        let candidates = [
            event.introduced.map(OsvEvent::Introduced),
            event.fixed.map(OsvEvent::Fixed),
            event.last_affected.map(OsvEvent::LastAffected),
            event.limit.map(OsvEvent::Limit),
        ];
        let mut present = candidates.into_iter().flatten();
        match (present.next(), present.next()) {
            (Some(event), None) => events.push(event),
            _ => {
                return Err(invalid(
                    path,
                    &format!("{location}.events[{index}]"),
                    "an event needs exactly one of introduced, fixed, last_affected and limit".into(),
                ));
            }
        }
    }
    Ok(OsvRange {
        kind,
        repo: raw.repo,
        events,
    })
}

/// Reads `database_specific.cwe_ids` where it is a list. Other shapes of
/// the free-form object carry no CWE and are ignored.
fn convert_cwes(path: &str, database_specific: Option<serde_json::Value>) -> Result<Vec<Cwe>, IntelError> {
    let Some(serde_json::Value::Array(items)) = database_specific.as_ref().and_then(|specific| specific.get("cwe_ids"))
    else {
        return Ok(Vec::new());
    };
    let mut cwes = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let text = item.as_str().unwrap_or_default();
        let cwe: Cwe = text.parse().map_err(|_| {
            invalid(
                path,
                &format!("database_specific.cwe_ids[{index}]"),
                format!(
                    "invalid CWE id {:?}: expected CWE-N such as CWE-79",
                    shorten(&item.to_string())
                ),
            )
        })?;
        if !cwes.contains(&cwe) {
            cwes.push(cwe);
        }
    }
    Ok(cwes)
}

/// OSV advisories by id, with an alias index in both directions.
#[derive(Debug, Clone, Default)]
pub struct OsvStore {
    records: Vec<OsvRecord>,
    by_id: HashMap<VulnerabilityId, usize>,
    links: HashMap<VulnerabilityId, BTreeSet<VulnerabilityId>>,
    skipped: Vec<Skipped>,
}

impl OsvStore {
    /// Loads every `.json` file under `dir`, recursively, in path order.
    /// Invalid records are listed in [`OsvStore::skipped`] and logged.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<OsvStore, IntelError> {
        let (files, skipped) = list_files(dir.as_ref(), &[".json"], OSV_MAX_RECORDS, "OSV records")?;
        let mut store = OsvStore {
            skipped,
            ..OsvStore::default()
        };
        let mut records = Vec::new();
        load_each(
            &files,
            "OSV record",
            &mut store.skipped,
            |file| OsvRecord::load(file),
            |record| records.push(record),
        );
        for record in records {
            store.add(record);
        }
        Ok(store)
    }

    /// Adds a record. Of two records with the same id, the one modified
    /// last is kept.
    pub fn add(&mut self, record: OsvRecord) {
        if let Some(&index) = self.by_id.get(&record.id) {
            if record.modified > self.records[index].modified {
                self.records[index] = record;
                self.rebuild_links();
            }
            return;
        }
        self.link(&record);
        self.by_id.insert(record.id.clone(), self.records.len());
        self.records.push(record);
    }

    /// Takes the records out of the store, for merging into another.
    pub fn into_records(self) -> Vec<OsvRecord> {
        self.records
    }

    /// Returns the record with this id.
    pub fn get(&self, id: &VulnerabilityId) -> Option<&OsvRecord> {
        self.by_id.get(id).map(|&index| &self.records[index])
    }

    /// Returns every id linked to `id` through aliases, in either direction
    /// and through other advisories, sorted and without `id` itself.
    pub fn aliases(&self, id: &VulnerabilityId) -> Vec<VulnerabilityId> {
        let mut seen: BTreeSet<&VulnerabilityId> = BTreeSet::from([id]);
        let mut queue = VecDeque::from([id]);
        while let Some(current) = queue.pop_front() {
            for next in self.links.get(current).into_iter().flatten() {
                if seen.len() >= MAX_ALIAS_GROUP {
                    tracing::warn!(id = %id, limit = MAX_ALIAS_GROUP, "OSV alias group is too large; it is cut");
                    queue.clear();
                    break;
                }
                if seen.insert(next) {
                    queue.push_back(next);
                }
            }
        }
        seen.remove(id);
        seen.into_iter().cloned().collect()
    }

    /// Returns the CVE ids linked to `id`, such as the CVE of a GHSA advisory.
    pub fn cves(&self, id: &VulnerabilityId) -> Vec<CveId> {
        self.aliases(id)
            .iter()
            .filter_map(VulnerabilityId::as_cve)
            .cloned()
            .collect()
    }

    /// Returns every record in the order it was added.
    pub fn records(&self) -> &[OsvRecord] {
        &self.records
    }

    /// Returns the number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Returns whether the store has no record.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Returns the files that [`OsvStore::load_dir`] did not load, and why.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    fn link(&mut self, record: &OsvRecord) {
        if record.withdrawn.is_some() {
            return;
        }
        for alias in &record.aliases {
            self.links.entry(record.id.clone()).or_default().insert(alias.clone());
            self.links.entry(alias.clone()).or_default().insert(record.id.clone());
        }
    }

    fn rebuild_links(&mut self) {
        self.links.clear();
        let records = std::mem::take(&mut self.records);
        for record in &records {
            self.link(record);
        }
        self.records = records;
    }
}
