//! CVE JSON 5.x records of the CVE Program, with their ADP containers.
//!
//! A CVE record (schema: <https://github.com/CVEProject/cve-schema>,
//! published in `CVEProject/cvelistV5` and, with CISA's enrichment, in
//! `cisagov/vulnrichment`, both laid out `YEAR/NNxxx/CVE-YYYY-NNNNN.json`)
//! is one JSON object: `dataType: "CVE_RECORD"`, `dataVersion: "5.x"`,
//! `cveMetadata` (id, state, dates, assigner) and `containers` with one
//! `cna` container, written by the CVE Numbering Authority, and any number
//! of `adp` containers, written by Authorized Data Publishers such as
//! `CISA-ADP`.
//!
//! How the fields map: every value read from a container is a [`Fact`]
//! whose [`Provenance`] has kind [`SourceKind::Cve5`], the container's
//! `providerMetadata.shortName` as author, its `providerMetadata.dateUpdated`
//! (day, UTC) as date, and the file as path. Read from every container
//! (CNA first, then the ADPs in file order):
//!
//! - `metrics[]`: `cvssV2_0`, `cvssV3_0`, `cvssV3_1`, `cvssV4_0` as
//!   [`CvssMetric`] (vector, stated `baseScore` and `baseSeverity`). A stated
//!   score that disagrees with the vector, or a vector of another version
//!   than its field, is a warning in [`Cve5Record::warnings`], not an error;
//! - `metrics[].other` with `type: "ssvc"` as [`SsvcDecisionPoints`] and
//!   with `type: "kev"` as [`KevReference`];
//! - `problemTypes[].descriptions[]` as CWEs: the `cweId`, or else a
//!   `CWE-N` at the start of the `description`; `NVD-CWE-noinfo` and
//!   `NVD-CWE-Other` are left out;
//! - `affected[]` as [`AffectedProduct`], `references[]` as
//!   [`Reference`] (an `exploit` tag marks exploit evidence) and
//!   `timeline[]` as [`TimelineEvent`].
//!
//! From the CNA container only: the first English description (`lang`
//! `en` or `en-*`), the `title` and, for rejected records, the English
//! `rejectedReasons`. Record-level fields (`cveId`, `state`,
//! `datePublished`, `dateUpdated`) are plain fields of [`Cve5Record`] with
//! one [`Cve5Record::source`] for the record: the assigner's short name
//! and the record's `dateUpdated`.
//!
//! Validation: the CVE id, the state, dates, CVSS vectors, CWE ids, SSVC
//! values, KEV dates, version statuses and the type of every field read
//! are checked. A bad value rejects the record with an
//! [`IntelError::Invalid`] naming the file and JSON path, because a record
//! half read could hide exploitation. SSVC names and values are compared
//! without regard to case, spaces, hyphens and underscores, so
//! `Technical Impact`, `technical_impact` and `technicalImpact` are one
//! point and `PoC` and `poc` one value. Files are limited to
//! [`CVE5_MAX_BYTES`] and nesting to 128 levels.
//!
//! Rejected records (`state: "REJECTED"`) load with
//! [`CveState::Rejected`] and usually no metrics, so that a store can tell
//! a withdrawn id from an unknown one.
//!
//! Not read: `impacts` (CAPEC), `exploits`, `solutions`, `workarounds`,
//! `configurations`, `credits`, `source`, `tags`, the `format` and
//! `scenarios` of metrics, `other` metrics of other types (such as a
//! textual severity), and the `platforms`, `repo`, `modules`,
//! `programFiles` and `programRoutines` of affected products. CPEs of
//! affected products are kept as text.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use ctem_model::{CveId, CvssVersion, Cwe};
use serde::Serialize;

use crate::error::{IntelError, shorten};
use crate::json::{self, Node};
use crate::provenance::{Fact, Provenance, SourceKind};
use crate::vuln::{CvssMetric, Reference, read_cve_id, read_cvss, read_cwe, read_english, read_reference};

/// The largest CVE record file that [`Cve5Record::load`] reads. Records are
/// under 1 MB: the largest of a 2024 sample of 1,451 records is 154 KB. The
/// limit stops a wrong or hostile file before it fills memory.
pub const CVE5_MAX_BYTES: u64 = 16 * 1024 * 1024;

const FORMAT: &str = "a CVE JSON 5 record";

/// The `state` of a CVE record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CveState {
    /// `PUBLISHED`: the CVE describes a vulnerability.
    Published,
    /// `REJECTED`: the id was withdrawn and describes nothing.
    Rejected,
}

/// One CVE record, read and validated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cve5Record {
    pub cve: CveId,
    pub state: CveState,
    /// `dataVersion`, such as `5.1`.
    pub data_version: String,
    /// The record as a whole: the assigner's short name and the record's `dateUpdated`.
    pub source: Provenance,
    pub date_published: Option<DateTime<Utc>>,
    pub date_updated: Option<DateTime<Utc>>,
    /// The first English description of the CNA.
    pub description: Option<Fact<String>>,
    /// The CNA's title.
    pub title: Option<Fact<String>>,
    /// The English reason for the rejection, for rejected records.
    pub rejected_reason: Option<Fact<String>>,
    pub cvss: Vec<Fact<CvssMetric>>,
    /// CWEs of every container, each once per container.
    pub cwes: Vec<Fact<Cwe>>,
    pub affected: Vec<Fact<AffectedProduct>>,
    pub ssvc: Vec<Fact<SsvcDecisionPoints>>,
    pub kev: Vec<Fact<KevReference>>,
    pub timeline: Vec<Fact<TimelineEvent>>,
    pub references: Vec<Fact<Reference>>,
    /// Problems that did not stop loading, such as a stated CVSS score that
    /// differs from the one computed from its vector.
    pub warnings: Vec<String>,
}

/// A product that a record lists in `affected[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AffectedProduct {
    pub vendor: Option<String>,
    pub product: Option<String>,
    /// `packageName` in the ecosystem of `collectionURL`.
    pub package_name: Option<String>,
    /// `collectionURL`: the package registry, such as `https://pypi.org`.
    pub collection_url: Option<String>,
    /// The status of versions that no entry of `versions` covers.
    pub default_status: Option<VersionStatus>,
    /// CPE 2.3 names as written in the record, unvalidated.
    pub cpes: Vec<String>,
    pub versions: Vec<AffectedVersion>,
}

/// One entry of `affected[].versions`: a version, or a range from
/// `version` up to `less_than` or `less_than_or_equal`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AffectedVersion {
    pub status: VersionStatus,
    pub version: String,
    pub less_than: Option<String>,
    pub less_than_or_equal: Option<String>,
    /// `versionType`, such as `semver`, `git` or `custom`.
    pub version_type: Option<String>,
}

/// Whether a version is affected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionStatus {
    Affected,
    Unaffected,
    Unknown,
}

/// SSVC `Exploitation`: the evidence of exploitation of the vulnerability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exploitation {
    /// No evidence of exploitation and no public proof of concept.
    None,
    /// A public proof of concept exists (`PoC`, `public PoC`).
    Poc,
    /// Exploitation has been seen in the wild.
    Active,
}

/// SSVC `Technical Impact`: how much control an exploit gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TechnicalImpact {
    Partial,
    /// Total control of the component, or total disclosure of its information.
    Total,
}

/// SSVC decision points of one assessment (`metrics[].other` with
/// `type: "ssvc"`), such as CISA's coordinator decisions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SsvcDecisionPoints {
    pub exploitation: Option<Exploitation>,
    /// `Automatable`: whether steps 1 to 4 of the kill chain can be automated.
    pub automatable: Option<bool>,
    pub technical_impact: Option<TechnicalImpact>,
    /// `content.role`, such as `CISA Coordinator`.
    pub role: Option<String>,
    /// `content.version`: the SSVC version of the decision points, such as `2.0.3`.
    pub version: Option<String>,
    /// `content.timestamp`: when the assessment was made.
    pub timestamp: Option<DateTime<Utc>>,
    /// Decision points without a typed field (other SSVC roles), by name as written.
    pub other: BTreeMap<String, String>,
}

/// A KEV listing that an ADP states (`metrics[].other` with `type: "kev"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KevReference {
    /// `content.dateAdded`: the day CISA added the CVE to KEV.
    pub date_added: NaiveDate,
    /// `content.reference`: the link to the catalog entry.
    pub reference: Option<String>,
}

/// One event of a container's `timeline[]`, such as "added to CISA KEV".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEvent {
    pub time: DateTime<Utc>,
    pub lang: Option<String>,
    pub value: String,
}

impl Cve5Record {
    /// Loads a CVE record from a JSON file.
    pub fn load(path: impl AsRef<Path>) -> Result<Cve5Record, IntelError> {
        let path = path.as_ref();
        let (display, file) = json::open(path)?;
        let mut record = Cve5Record::from_reader(&display, file)?;

        let stem = path.file_stem().map(|stem| stem.to_string_lossy());
        if stem.is_some_and(|stem| !stem.eq_ignore_ascii_case(record.cve.as_str())) {
            let warning = format!("the file name does not match the CVE id {}", record.cve);
            let file_name = display.as_str();
            tracing::warn!(path = file_name, cve = %record.cve, "{warning}");
            record.warnings.push(warning);
        }
        Ok(record)
    }

    /// Reads a CVE record from `reader`. `path_for_errors` names the source
    /// in errors and in every [`Provenance`].
    pub fn from_reader(path_for_errors: &str, reader: impl std::io::Read) -> Result<Cve5Record, IntelError> {
        let path = path_for_errors;
        let bytes = json::read_limited(path, reader, CVE5_MAX_BYTES, "CVE JSON 5 record")?;
        let value = json::parse(path, &bytes, FORMAT)?;
        drop(bytes);

        let record = read_record(&Node::root(path, &value))?;
        // Published records often state a score that differs from their
        // vector (some CNAs state the temporal score), so this is a debug
        // message: the record keeps the warnings, and `ctem intel show`
        // prints the stated score beside the computed one.
        if let Some(first) = record.warnings.first() {
            tracing::debug!(
                path,
                cve = %record.cve,
                warnings = record.warnings.len(),
                first = %first,
                "CVE record loaded with warnings"
            );
        }
        Ok(record)
    }

    /// Returns whether the CVE id was withdrawn.
    pub fn is_rejected(&self) -> bool {
        self.state == CveState::Rejected
    }

    /// Returns the references that some container marks as an exploit.
    pub fn exploit_references(&self) -> impl Iterator<Item = &Fact<Reference>> {
        self.references.iter().filter(|reference| reference.value.is_exploit())
    }
}

fn not_cve5(path: &str, reason: String) -> IntelError {
    IntelError::NotFormat {
        path: path.to_string(),
        expected: FORMAT,
        reason,
    }
}

fn read_record(root: &Node<'_>) -> Result<Cve5Record, IntelError> {
    let file = root.file().to_string();
    if root.expect_object().is_err() {
        return Err(not_cve5(&file, "the top level is not a JSON object".to_string()));
    }
    check_format(root, &file)?;

    let metadata = root.required("cveMetadata")?;
    let cve = read_cve_id(&metadata.required("cveId")?)?;
    let state_node = metadata.required("state")?;
    let state = match state_node.as_str()? {
        word if word.eq_ignore_ascii_case("PUBLISHED") => CveState::Published,
        word if word.eq_ignore_ascii_case("REJECTED") => CveState::Rejected,
        word => {
            return Err(state_node.invalid(format!(
                "invalid state {:?}: expected PUBLISHED or REJECTED",
                shorten(word)
            )));
        }
    };
    let date_published = metadata.timestamp_of("datePublished")?;
    let date_updated = metadata.timestamp_of("dateUpdated")?;
    let mut source = Provenance::new(SourceKind::Cve5, &file, date_updated.map(|time| time.date_naive()));
    if let Some(assigner) = metadata.str_of("assignerShortName")? {
        source = source.by(assigner);
    }

    let mut record = Cve5Record {
        cve,
        state,
        data_version: root.required_str("dataVersion")?.to_string(),
        source,
        date_published,
        date_updated,
        description: None,
        title: None,
        rejected_reason: None,
        cvss: Vec::new(),
        cwes: Vec::new(),
        affected: Vec::new(),
        ssvc: Vec::new(),
        kev: Vec::new(),
        timeline: Vec::new(),
        references: Vec::new(),
        warnings: Vec::new(),
    };

    let containers = root.required("containers")?;
    let cna = containers.required("cna")?;
    cna.expect_object()?;
    let cna_source = container_source(&cna, &file)?;
    record.description = read_english(&cna, "descriptions", "value")?.map(|text| Fact::new(text, cna_source.clone()));
    record.title = cna
        .string_of("title")?
        .map(|title| Fact::new(title, cna_source.clone()));
    record.rejected_reason =
        read_english(&cna, "rejectedReasons", "value")?.map(|text| Fact::new(text, cna_source.clone()));
    read_container(&cna, &cna_source, &mut record)?;

    for adp in containers.items_of("adp")? {
        adp.expect_object()?;
        let adp_source = container_source(&adp, &file)?;
        read_container(&adp, &adp_source, &mut record)?;
    }
    Ok(record)
}

/// Checks `dataType` and `dataVersion`, so that a CVE JSON 4 file or another
/// JSON document is reported as such rather than as a missing field.
fn check_format(root: &Node<'_>, file: &str) -> Result<(), IntelError> {
    match root.field("dataType").map(|node| node.as_str()).transpose()? {
        Some("CVE_RECORD") => {}
        Some(other) => {
            return Err(not_cve5(
                file,
                format!("dataType is {:?}, expected \"CVE_RECORD\"", shorten(other)),
            ));
        }
        None if root.field("data_type").is_some() => {
            return Err(not_cve5(
                file,
                "the file is in the CVE JSON 4 format (data_type); CVE JSON 5 records have dataType".to_string(),
            ));
        }
        None if root.field("vulnerabilities").is_some() || root.field("cve").is_some() => {
            return Err(not_cve5(
                file,
                "the file looks like an NVD API response; read it with NvdFile".to_string(),
            ));
        }
        None => return Err(not_cve5(file, "dataType is missing".to_string())),
    }
    let version = root.required_str("dataVersion")?;
    if !version.starts_with("5.") {
        return Err(not_cve5(
            file,
            format!("dataVersion is {:?}; this loader reads 5.x", shorten(version)),
        ));
    }
    Ok(())
}

/// Builds the provenance of a container's facts from its `providerMetadata`.
fn container_source(container: &Node<'_>, file: &str) -> Result<Provenance, IntelError> {
    let Some(provider) = container.field("providerMetadata") else {
        return Ok(Provenance::new(SourceKind::Cve5, file, None));
    };
    let date = provider.timestamp_of("dateUpdated")?.map(|time| time.date_naive());
    let mut source = Provenance::new(SourceKind::Cve5, file, date);
    if let Some(name) = provider.str_of("shortName")? {
        source = source.by(name);
    }
    Ok(source)
}

/// Reads what every container may state: metrics, CWEs, affected
/// products, references and the timeline.
fn read_container(container: &Node<'_>, source: &Provenance, record: &mut Cve5Record) -> Result<(), IntelError> {
    for metric in container.items_of("metrics")? {
        read_metric(&metric, source, record)?;
    }

    let mut cwes = Vec::new();
    for problem in container.items_of("problemTypes")? {
        for description in problem.items_of("descriptions")? {
            if let Some(cwe) = read_problem_cwe(&description)?
                && !cwes.contains(&cwe)
            {
                cwes.push(cwe);
            }
        }
    }
    record
        .cwes
        .extend(cwes.into_iter().map(|cwe| Fact::new(cwe, source.clone())));

    for product in container.items_of("affected")? {
        let product = read_affected(&product)?;
        record.affected.push(Fact::new(product, source.clone()));
    }
    for reference in container.items_of("references")? {
        let reference = read_reference(&reference)?;
        record.references.push(Fact::new(reference, source.clone()));
    }
    for event in container.items_of("timeline")? {
        let time = event
            .timestamp_of("time")?
            .ok_or_else(|| event.invalid("missing required field time"))?;
        let event = TimelineEvent {
            time,
            lang: event.string_of("lang")?,
            value: event.required_str("value")?.to_string(),
        };
        record.timeline.push(Fact::new(event, source.clone()));
    }
    Ok(())
}

/// Reads one item of `metrics[]`: a CVSS object, or an `other` object of
/// type `ssvc` or `kev`. Other keys and other types are skipped.
fn read_metric(metric: &Node<'_>, source: &Provenance, record: &mut Cve5Record) -> Result<(), IntelError> {
    for (key, node) in metric.entries()? {
        let version = match key {
            "cvssV2_0" => CvssVersion::V2,
            "cvssV3_0" => CvssVersion::V30,
            "cvssV3_1" => CvssVersion::V31,
            "cvssV4_0" => CvssVersion::V40,
            "other" => {
                read_other_metric(&node, source, record)?;
                continue;
            }
            _ => continue,
        };
        let cvss = read_cvss(&node, &node, version, &mut record.warnings)?;
        record.cvss.push(Fact::new(cvss, source.clone()));
    }
    Ok(())
}

fn read_other_metric(other: &Node<'_>, source: &Provenance, record: &mut Cve5Record) -> Result<(), IntelError> {
    let kind = other.str_of("type")?.unwrap_or_default();
    if kind.eq_ignore_ascii_case("ssvc") {
        let content = other.required("content")?;
        record.ssvc.push(Fact::new(read_ssvc(&content)?, source.clone()));
    } else if kind.eq_ignore_ascii_case("kev") {
        let content = other.required("content")?;
        let date_node = content.required("dateAdded")?;
        let date_added = date_node
            .as_str()
            .ok()
            .and_then(json::parse_timestamp)
            .map(|time| time.date_naive())
            .ok_or_else(|| date_node.invalid("invalid date: expected YYYY-MM-DD such as 2023-10-05"))?;
        let reference = content.string_of("reference")?;
        record
            .kev
            .push(Fact::new(KevReference { date_added, reference }, source.clone()));
    }
    Ok(())
}

/// Reads `content` of an SSVC metric. `options` is a list of one-member
/// objects such as `{"Exploitation": "poc"}`.
fn read_ssvc(content: &Node<'_>) -> Result<SsvcDecisionPoints, IntelError> {
    let mut points = SsvcDecisionPoints {
        role: content.string_of("role")?,
        version: content.string_of("version")?,
        timestamp: content.timestamp_of("timestamp")?,
        ..SsvcDecisionPoints::default()
    };

    for option in content.items_of("options")? {
        for (name, value_node) in option.entries()? {
            let value = value_node.as_str()?;
            let word = normalize(value);
            let unknown = |expected: &str| {
                value_node.invalid(format!(
                    "invalid SSVC {name} value {:?}: expected {expected}",
                    shorten(value)
                ))
            };
            let conflict = || value_node.invalid(format!("SSVC {name} is stated twice with different values"));

            match normalize(name).as_str() {
                "exploitation" => {
                    let parsed = match word.as_str() {
                        "none" => Exploitation::None,
                        "poc" | "publicpoc" => Exploitation::Poc,
                        "active" => Exploitation::Active,
                        _ => return Err(unknown("none, poc or active")),
                    };
                    set_once(&mut points.exploitation, parsed).map_err(|()| conflict())?;
                }
                "automatable" => {
                    let parsed = match word.as_str() {
                        "yes" => true,
                        "no" => false,
                        _ => return Err(unknown("yes or no")),
                    };
                    set_once(&mut points.automatable, parsed).map_err(|()| conflict())?;
                }
                "technicalimpact" => {
                    let parsed = match word.as_str() {
                        "partial" => TechnicalImpact::Partial,
                        "total" => TechnicalImpact::Total,
                        _ => return Err(unknown("partial or total")),
                    };
                    set_once(&mut points.technical_impact, parsed).map_err(|()| conflict())?;
                }
                _ => {
                    points.other.insert(name.to_string(), value.to_string());
                }
            }
        }
    }
    Ok(points)
}

/// Lowercases and drops spaces, hyphens and underscores: `Technical Impact`,
/// `technical_impact` and `technicalImpact` all become `technicalimpact`.
fn normalize(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Sets `slot` unless it already contains a different value.
fn set_once<T: PartialEq>(slot: &mut Option<T>, value: T) -> Result<(), ()> {
    match slot {
        Some(existing) if *existing != value => Err(()),
        _ => {
            *slot = Some(value);
            Ok(())
        }
    }
}

/// Reads the CWE of one `problemTypes[].descriptions[]` item: its `cweId`,
/// or a `CWE-N` that starts its `description` (`CWE-79 Cross-Site Scripting`).
fn read_problem_cwe(description: &Node<'_>) -> Result<Option<Cwe>, IntelError> {
    if let Some(id_node) = description.field("cweId") {
        let text = id_node.as_str()?;
        return read_cwe(&id_node, text);
    }
    let Some(text) = description.str_of("description")? else {
        return Ok(None);
    };
    let Some(rest) = text
        .get(..4)
        .filter(|prefix| prefix.eq_ignore_ascii_case("CWE-"))
        .map(|_| &text[4..])
    else {
        return Ok(None);
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Ok(digits.parse().ok().map(Cwe))
}

fn read_affected(product: &Node<'_>) -> Result<AffectedProduct, IntelError> {
    let default_status = match product.field("defaultStatus") {
        Some(node) => Some(read_status(&node)?),
        None => None,
    };
    let mut versions = Vec::new();
    for version in product.items_of("versions")? {
        versions.push(AffectedVersion {
            status: read_status(&version.required("status")?)?,
            version: version.required_str("version")?.to_string(),
            less_than: version.string_of("lessThan")?,
            less_than_or_equal: version.string_of("lessThanOrEqual")?,
            version_type: version.string_of("versionType")?,
        });
    }
    Ok(AffectedProduct {
        vendor: product.string_of("vendor")?,
        product: product.string_of("product")?,
        package_name: product.string_of("packageName")?,
        collection_url: product.string_of("collectionURL")?,
        default_status,
        cpes: product.strings_of("cpes")?,
        versions,
    })
}

fn read_status(node: &Node<'_>) -> Result<VersionStatus, IntelError> {
    match node.as_str()? {
        word if word.eq_ignore_ascii_case("affected") => Ok(VersionStatus::Affected),
        word if word.eq_ignore_ascii_case("unaffected") => Ok(VersionStatus::Unaffected),
        word if word.eq_ignore_ascii_case("unknown") => Ok(VersionStatus::Unknown),
        word => Err(node.invalid(format!(
            "invalid status {:?}: expected affected, unaffected or unknown",
            shorten(word)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_names_and_values() {
        for name in [
            "Technical Impact",
            "technical_impact",
            "technicalImpact",
            "TECHNICAL-IMPACT",
        ] {
            assert_eq!(normalize(name), "technicalimpact", "{name}");
        }
        assert_eq!(normalize("PoC"), "poc");
        assert_eq!(normalize(" public PoC "), "publicpoc");
    }

    #[test]
    fn set_once_rejects_conflicts() {
        let mut slot = None;
        assert_eq!(set_once(&mut slot, 1), Ok(()));
        assert_eq!(set_once(&mut slot, 1), Ok(()));
        assert_eq!(set_once(&mut slot, 2), Err(()));
        assert_eq!(slot, Some(1));
    }
}
