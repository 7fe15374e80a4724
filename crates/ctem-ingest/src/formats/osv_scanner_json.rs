//! OSV-Scanner JSON reports: the known vulnerabilities of the packages in a
//! project's lock files, SBOMs and git repositories, from the OSV database.
//!
//! # Reads
//!
//! `osv-scanner --format json` of OSV-Scanner 1.x and 2.x: `results[]`,
//! each with a `source` (`path`, `type`: `lockfile`, `sbom`, `git`...) and
//! `packages[]` of `{package {name, version, ecosystem, commit},
//! vulnerabilities[] (full OSV records), groups[] {ids, aliases,
//! max_severity}}`. An empty file (OSV-Scanner writes nothing in some
//! failed runs) is read as a report without results that declares no
//! scope, so that it closes no finding.
//!
//! # Field mapping
//!
//! One finding per group of aliased vulnerabilities, package and source.
//! A group's records are the entries of `vulnerabilities` whose `id` is in
//! its `ids`; a vulnerability outside every group (reports older than
//! `groups`) is a group of its own.
//!
//! | report | finding |
//! | --- | --- |
//! | the group's first id | `rule_id` |
//! | the group's `ids` and `aliases`, each record's `id` and `aliases` | `vulnerability_ids` |
//! | rule id, package name and version | `title` (`GHSA-25mq-v84q-4j7r in guzzlehttp/guzzle 6.3.3`) |
//! | highest `database_specific.severity` of the records, else the group's `max_severity` score, else the highest CVSS vector | `severity` |
//! | `severity[]` of type `CVSS_V2`, `CVSS_V3`, `CVSS_V4` | `cvss` |
//! | `database_specific.cwe_ids`, `affected[].database_specific.cwes[].cweId` | `cwes` |
//! | `summary`, `details` | `description` |
//! | the `fixed` events of the `affected[]` ranges of the package | `fix.fixed_versions` |
//! | `references[].url` | `references` |
//! | `source.path` | `location.path` |
//! | `package` (name, version, ecosystem) | `component` (purl from the ecosystem) |
//! | `source.type`, the group's `max_severity` | `attributes` |
//!
//! A package of a `git` source has a commit and no name: its component is
//! named by the source path, with the commit as its version. Every package
//! is a `Component` asset that the scanned project `Contains`.
//!
//! # Scope target
//!
//! One scan covers every lock file under the scanned folders, so the scope
//! is the report: [`ParseContext::default_target`]. The subject asset is a
//! `Repository` with that name; each lock file is the finding's path.
//!
//! # Fingerprint
//!
//! Tool (`osv-scanner`), the group's first id, the subject, the component's
//! purl (or name and version) and the source path.
//!
//! # Not read yet
//!
//! `affected[].versions` (the list of every affected version, skipped
//! unread to save memory), which `fixed` versions apply to the installed
//! version (all are listed), `licenses`, `experimental_config`, call
//! analysis results, and OSV-Scanner's container image scans (`image_metadata`).
//!
//! # Reference
//!
//! <https://google.github.io/osv-scanner/output/#json> and the OSV schema
//! <https://ossf.github.io/osv-schema/>.

use std::fmt;
use std::io::{BufRead, Read};

use ctem_model::{Component, Finding, FindingKind, Severity};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::formats::sca_shared::{self, Inventory};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Position, Sink, util};

const FORMAT_ID: &str = "osv-scanner-json";
const TOOL: &str = "osv-scanner";

/// The OSV-Scanner JSON parser.
pub struct OsvScannerJson;

impl Parser for OsvScannerJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "OSV-Scanner JSON",
            tool: "OSV-Scanner",
            versions: "OSV-Scanner 1.x and 2.x (--format json)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if !head.starts_with(b"{") {
            return Detection::No;
        }
        let has = |marker: &[u8]| util::contains(head, marker);
        if !has(b"\"results\"") {
            return Detection::No;
        }
        let package_shape = has(b"\"packages\"") && has(b"\"source\"") && has(b"\"ecosystem\"");
        if package_shape || has(b"\"experimental_config\"") {
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
        let skipped = skip_whitespace(reader)
            .map_err(|error| ParseError::new(context.path, FORMAT_ID, Some(Position::Byte(0)), error.to_string()))?;
        let Some(skipped) = skipped else {
            return Ok(());
        };

        let mut inventory = Inventory::repository(sink, TOOL, context.default_target);
        let mut state = State {
            target: context.default_target,
            sink,
            inventory: &mut inventory,
        };
        let mut deserializer = serde_json::Deserializer::from_reader(skipped.replay().chain(reader));
        deserializer
            .deserialize_map(RootVisitor { state: &mut state })
            .and_then(|()| deserializer.end())
            .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))
    }
}

/// The whitespace consumed before the first token, as lines and spaces.
struct Skipped {
    lines: u64,
    spaces: u64,
}

impl Skipped {
    /// Returns a reader of whitespace with the same lines and columns as
    /// the consumed whitespace, so that error positions stay right.
    fn replay(&self) -> impl Read {
        std::io::repeat(b'\n')
            .take(self.lines)
            .chain(std::io::repeat(b' ').take(self.spaces))
    }
}

/// Consumes the leading whitespace of a file, and returns `None` when
/// nothing else follows.
fn skip_whitespace(reader: &mut dyn BufRead) -> std::io::Result<Option<Skipped>> {
    let mut skipped = Skipped { lines: 0, spaces: 0 };
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(None);
        }
        let blank = buffer.iter().take_while(|b| b.is_ascii_whitespace()).count();
        for byte in &buffer[..blank] {
            if *byte == b'\n' {
                skipped.lines += 1;
                skipped.spaces = 0;
            } else {
                skipped.spaces += 1;
            }
        }
        let done = blank < buffer.len();
        reader.consume(blank);
        if done {
            return Ok(Some(skipped));
        }
    }
}

struct State<'a> {
    target: &'a str,
    sink: &'a mut dyn Sink,
    inventory: &'a mut Inventory,
}

/// Reads the root object, handing each entry of `results` over as it is read.
struct RootVisitor<'s, 'a> {
    state: &'s mut State<'a>,
}

impl<'de> Visitor<'de> for RootVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an OSV-Scanner report object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut results_seen = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "results" {
                let state = &mut *self.state;
                map.next_value_seed(sca_shared::each_element(|result: ScanResult| {
                    state.result(result);
                    Ok(())
                }))?;
                results_seen = true;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if !results_seen {
            return Err(de::Error::custom(
                "missing \"results\": expected an OSV-Scanner report (osv-scanner --format json)",
            ));
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// The lean shapes of a report's parts. Fields that are not listed, such as
// `affected[].versions`, are skipped without being kept.
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ScanResult {
    source: Source,
    packages: Option<Vec<PackageVulnerabilities>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Source {
    #[serde(deserialize_with = "util::loose_text")]
    path: Option<String>,
    #[serde(rename = "type", deserialize_with = "util::loose_text")]
    kind: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PackageVulnerabilities {
    package: PackageInfo,
    vulnerabilities: Option<Vec<OsvRecord>>,
    groups: Option<Vec<Group>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PackageInfo {
    #[serde(deserialize_with = "util::loose_text")]
    name: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    version: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    ecosystem: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    commit: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OsvRecord {
    #[serde(deserialize_with = "util::loose_text")]
    id: Option<String>,
    #[serde(deserialize_with = "sca_shared::one_or_many")]
    aliases: Vec<String>,
    #[serde(deserialize_with = "util::loose_text")]
    summary: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    details: Option<String>,
    affected: Option<Vec<Affected>>,
    severity: Option<Vec<OsvSeverity>>,
    references: Option<Vec<Reference>>,
    database_specific: Option<DatabaseSpecific>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Affected {
    package: Option<AffectedPackage>,
    ranges: Option<Vec<Range>>,
    database_specific: Option<AffectedDatabaseSpecific>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AffectedPackage {
    #[serde(deserialize_with = "util::loose_text")]
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Range {
    events: Option<Vec<RangeEvent>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RangeEvent {
    #[serde(deserialize_with = "util::loose_text")]
    fixed: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AffectedDatabaseSpecific {
    cwes: Option<Vec<CweEntry>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CweEntry {
    #[serde(rename = "cweId", deserialize_with = "util::loose_text")]
    cwe_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OsvSeverity {
    #[serde(rename = "type", deserialize_with = "util::loose_text")]
    kind: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    score: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Reference {
    #[serde(deserialize_with = "util::loose_text")]
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DatabaseSpecific {
    #[serde(deserialize_with = "util::loose_text")]
    severity: Option<String>,
    #[serde(deserialize_with = "sca_shared::one_or_many")]
    cwe_ids: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Group {
    #[serde(deserialize_with = "sca_shared::one_or_many")]
    ids: Vec<String>,
    #[serde(deserialize_with = "sca_shared::one_or_many")]
    aliases: Vec<String>,
    #[serde(deserialize_with = "util::loose_text")]
    max_severity: Option<String>,
}

// ---------------------------------------------------------------------------
// Turning the parts into records.
// ---------------------------------------------------------------------------

impl State<'_> {
    /// Sends the components and findings of one scanned source.
    fn result(&mut self, result: ScanResult) {
        let path = util::non_empty(result.source.path.as_deref());
        let source_type = util::non_empty(result.source.kind.as_deref());
        for package in result.packages.unwrap_or_default() {
            self.package(package, path.as_deref(), source_type.as_deref());
        }
    }

    /// Sends the package's component asset and one finding per group.
    fn package(&mut self, package: PackageVulnerabilities, path: Option<&str>, source_type: Option<&str>) {
        let Some(component) = component(&package.package, path) else {
            return;
        };
        self.inventory.component(self.sink, &component);

        let records = package.vulnerabilities.unwrap_or_default();
        let mut groups = package.groups.unwrap_or_default();
        groups.retain(|group| group.ids.iter().any(|id| !id.trim().is_empty()));
        // Records outside every group (reports older than `groups`) are groups of their own.
        for record in &records {
            let Some(id) = util::non_empty(record.id.as_deref()) else {
                continue;
            };
            if !groups.iter().any(|group| group.ids.iter().any(|g| g.trim() == id)) {
                groups.push(Group {
                    ids: vec![id],
                    ..Group::default()
                });
            }
        }

        for group in &groups {
            let members: Vec<&OsvRecord> = records
                .iter()
                .filter(|record| {
                    record
                        .id
                        .as_deref()
                        .is_some_and(|id| group.ids.iter().any(|g| g.trim() == id.trim()))
                })
                .collect();
            if let Some(finding) = self.finding(group, &members, &component, path, source_type) {
                self.sink.finding(finding);
            }
        }
    }

    fn finding(
        &self,
        group: &Group,
        records: &[&OsvRecord],
        component: &Component,
        path: Option<&str>,
        source_type: Option<&str>,
    ) -> Option<Finding> {
        let rule_id = group.ids.iter().find_map(|id| util::non_empty(Some(id)))?;
        let title = match &component.version {
            Some(version) => format!("{rule_id} in {} {version}", component.name),
            None => format!("{rule_id} in {}", component.name),
        };
        let mut finding = Finding::new(
            TOOL,
            &rule_id,
            FindingKind::Vulnerability,
            title,
            Severity::Info,
            self.inventory.subject().clone(),
        );
        finding.target = Some(self.target.to_string());
        finding.location.path = path.map(str::to_string);
        finding.component = Some(component.clone());

        let record_ids = records.iter().flat_map(|r| r.id.iter().chain(r.aliases.iter()));
        for id in group.ids.iter().chain(&group.aliases).chain(record_ids) {
            util::add_vulnerability_id(&mut finding, id);
        }
        for record in records {
            add_record_details(&mut finding, record, &component.name);
        }
        finding.severity = severity(group, records, &finding);
        finding.description = description(records);

        let attributes = [
            ("source_type", source_type.map(str::to_string)),
            ("max_severity", util::non_empty(group.max_severity.as_deref())),
        ];
        for (name, value) in attributes {
            if let Some(value) = value {
                finding.attributes.insert(name.to_string(), value);
            }
        }
        Some(finding)
    }
}

/// Builds the component of a package, or of a git source's commit.
fn component(package: &PackageInfo, path: Option<&str>) -> Option<Component> {
    let version = util::non_empty(package.version.as_deref());
    let ecosystem = util::non_empty(package.ecosystem.as_deref());
    if let Some(name) = util::non_empty(package.name.as_deref()) {
        let purl = ecosystem
            .as_deref()
            .and_then(|e| sca_shared::ecosystem_purl(e, &name, version.as_deref()));
        return Some(Component {
            name,
            version,
            purl,
            ecosystem,
        });
    }
    let commit = util::non_empty(package.commit.as_deref())?;
    Some(Component {
        name: path.unwrap_or("git").to_string(),
        version: Some(commit),
        purl: None,
        ecosystem: None,
    })
}

/// Adds a record's CVSS vectors, CWEs, fixed versions of the package and
/// references.
fn add_record_details(finding: &mut Finding, record: &OsvRecord, package_name: &str) {
    for severity in record.severity.as_deref().unwrap_or_default() {
        let is_cvss = severity
            .kind
            .as_deref()
            .is_some_and(|kind| kind.trim().to_ascii_uppercase().starts_with("CVSS_"));
        if let Some(score) = severity.score.as_deref().filter(|_| is_cvss) {
            util::add_cvss(finding, score);
        }
    }

    if let Some(specific) = &record.database_specific {
        for cwe in &specific.cwe_ids {
            util::add_cwe(finding, cwe);
        }
    }
    for affected in record.affected.as_deref().unwrap_or_default() {
        let cwes = affected.database_specific.as_ref().and_then(|d| d.cwes.as_deref());
        for cwe in cwes.unwrap_or_default() {
            if let Some(id) = cwe.cwe_id.as_deref() {
                util::add_cwe(finding, id);
            }
        }

        let name = affected.package.as_ref().and_then(|p| p.name.as_deref());
        if !name.is_some_and(|name| name.trim().eq_ignore_ascii_case(package_name)) {
            continue;
        }
        let events = affected
            .ranges
            .iter()
            .flatten()
            .flat_map(|range| range.events.iter().flatten());
        for fixed in events.filter_map(|event| util::non_empty(event.fixed.as_deref())) {
            if !finding.fix.fixed_versions.contains(&fixed) {
                finding.fix.fixed_versions.push(fixed);
            }
        }
    }

    let urls = record
        .references
        .iter()
        .flatten()
        .filter_map(|r| util::non_empty(r.url.as_deref()));
    for url in urls {
        if !finding.references.contains(&url) {
            finding.references.push(url);
        }
    }
}

/// Returns the highest severity word of the records, else the rating of
/// the group's `max_severity` score, else of the highest CVSS vector, else
/// Info.
fn severity(group: &Group, records: &[&OsvRecord], finding: &Finding) -> Severity {
    let stated = records
        .iter()
        .filter_map(|r| r.database_specific.as_ref()?.severity.as_deref())
        .filter_map(|word| word.parse::<Severity>().ok())
        .max();
    if let Some(severity) = stated {
        return severity;
    }
    let max_score = group
        .max_severity
        .as_deref()
        .and_then(|score| score.trim().parse::<f64>().ok())
        .filter(|score| (0.0..=10.0).contains(score));
    match max_score {
        Some(score) => Severity::from_cvss_score(score),
        None => util::severity_or_cvss(None, finding),
    }
}

/// Returns the summary and details of the first record that has them.
fn description(records: &[&OsvRecord]) -> Option<String> {
    let record = records
        .iter()
        .find(|r| util::non_empty(r.summary.as_deref()).is_some() || util::non_empty(r.details.as_deref()).is_some())?;
    let texts: Vec<String> = [record.summary.as_deref(), record.details.as_deref()]
        .into_iter()
        .filter_map(util::non_empty)
        .collect();
    Some(texts.join("\n\n"))
}
