//! Checkov JSON reports: failed policy checks of infrastructure-as-code
//! (Terraform, CloudFormation, Kubernetes manifests, Dockerfiles, Helm,
//! ARM, CI pipelines), and the secrets and package vulnerabilities that
//! Checkov finds in the same scan.
//!
//! # Reads
//!
//! The output of `checkov -o json` from Checkov 1.x to 3.x, in its three
//! shapes:
//!
//! - one report object, when one framework ran: `check_type`, `results`
//!   (`passed_checks`, `failed_checks`, `skipped_checks`,
//!   `parsing_errors`), `summary` (`passed`, `failed`, `skipped`,
//!   `parsing_errors`, `resource_count`, `checkov_version`) and `url`;
//! - a JSON array of such reports, one per framework (`terraform`,
//!   `dockerfile`, `secrets`, `sca_package`...);
//! - a bare summary object (`passed`, `failed`, ..., `checkov_version`),
//!   which Checkov writes when it found nothing to scan.
//!
//! Each check has `check_id`, `bc_check_id`, `check_name`,
//! `check_result` (`result`, `evaluated_keys`, `suppress_comment`),
//! `code_block`, `file_path`, `repo_file_path`, `file_line_range`,
//! `resource`, `check_class`, `guideline`, `severity`, `bc_category`,
//! `description`, `details` and, for package scans,
//! `vulnerability_details`.
//!
//! Checkov declares no format version, only its own version, and every
//! release since 1.0 writes the fields above, so no version is rejected.
//!
//! # Field mapping
//!
//! | report | finding |
//! | --- | --- |
//! | `check_id` | `rule_id` |
//! | `check_name`; for packages `short_description` or `id - package: version` | `title` |
//! | `severity` (a Bridgecrew or Prisma Cloud key run), else `vulnerability_details.severity`, else its CVSS, else Medium | `severity` |
//! | `file_path` (else `repo_file_path`), `file_line_range` | `location` (line 0 is no line) |
//! | `resource` (else `resource_address`) | `tool_fingerprint`, attribute `resource` |
//! | `code_block` as `line | text` | `evidence` (cut at 4 KiB) |
//! | `guideline`, `vulnerability_details.link` | `references` |
//! | `description`, `details`, else a sentence built from the check | `description` |
//! | `vulnerability_details` `id`, `vector`, `package_*`, `fixed_versions`, `lowest_fixed_version` | `vulnerability_ids`, `cvss`, `component`, `fix.fixed_versions` |
//! | `fixed_definition` | `fix.description` |
//! | `check_type`, `bc_check_id`, `check_class`, `bc_category`, `evaluated_keys`, `repo_file_path`, `suppress_comment` | `attributes` |
//!
//! The kind is Misconfiguration, except for the `secrets` framework
//! (`CKV_SECRET_*`: Secret), package vulnerabilities (`vulnerability_details`
//! with an `id`: Vulnerability) and license checks (`vulnerability_details`
//! with a `license`: License). Checkov masks secrets in its code blocks and
//! writes a digest as the resource, so no clear secret reaches the parser
//! and `finding.secret` stays empty.
//!
//! Only `failed_checks` and `skipped_checks` give findings. A skipped check
//! was suppressed in the code (`#checkov:skip=`) or on the command line, so
//! it is a finding with `source_status` Suppressed, which the scoring ranks
//! last, rather than silently looking fixed.
//!
//! Without a platform key Checkov writes `"severity": null`. Such a check
//! is Medium: a failed check is a policy violation the user chose to
//! enforce, Checkov gives no hint of its weight, and Medium is also what
//! DefectDojo assigns, so both tools rank these checks alike.
//!
//! # Scope target
//!
//! Checkov names no repository, so the scope is
//! [`ParseContext::default_target`], and the asset is an
//! [`AssetKind::Repository`] keyed by it. Each vulnerable package is also a
//! [`AssetKind::Component`] asset that the repository contains.
//!
//! # Fingerprint
//!
//! Tool, check id, repository asset, the component for package findings,
//! the file path and the resource address as the tool fingerprint. The
//! resource (`aws_s3_bucket.logs`) is the identity Checkov checks, and it
//! stays the same when an edit above it shifts its lines, which a line
//! number would not.
//!
//! # Not read yet
//!
//! `passed_checks` (only counted by Checkov), `parsing_errors`,
//! `entity_tags`, `benchmarks`, `breadcrumbs`, `evaluations` and the
//! `image_details` of container image scans.
//!
//! # Memory
//!
//! Reports and checks stream: one check is held at a time.
//!
//! # Reference
//!
//! <https://www.checkov.io/2.Basics/Reviewing%20Scan%20Results.html> and
//! `Report.get_dict` and `Record` in `checkov/common/output/` of Checkov.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::BufRead;

use ctem_model::{
    Asset, AssetKey, AssetKind, Component, Finding, FindingKind, Relationship, RelationshipKind, Severity, SourceStatus,
};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::iac_shared::{self, EachElement, LooseText, SeenKeys};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "checkov-json";
const TOOL: &str = "checkov";

/// The Checkov JSON report parser.
pub struct CheckovJson;

impl Parser for CheckovJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Checkov JSON",
            tool: "Checkov",
            versions: "Checkov 1.x to 3.x (-o json): one report, an array of reports, or a bare summary",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if !head.starts_with(b"{") && !head.starts_with(b"[") {
            return Detection::No;
        }
        let has = |key: &[u8]| util::contains(head, key);
        let results = has(b"\"failed_checks\"") || has(b"\"passed_checks\"") || has(b"\"skipped_checks\"");
        if has(b"\"check_type\"") && results {
            return Detection::Certain;
        }
        // The bare summary of a scan that found no files.
        if head.starts_with(b"{") && has(b"\"checkov_version\"") && has(b"\"resource_count\"") {
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
        let target = context.default_target.to_string();
        let repository = iac_shared::send_repository(sink, TOOL, &target);
        let mut state = ReportState {
            sink,
            repository,
            target,
            components: BTreeSet::new(),
        };

        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        deserializer
            .deserialize_any(RootVisitor { state: &mut state })
            .and_then(|()| deserializer.end())
            .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))
    }
}

/// State of one file's parse.
struct ReportState<'a> {
    sink: &'a mut dyn Sink,
    repository: AssetKey,
    target: String,
    /// Keys of the component assets already sent.
    components: BTreeSet<AssetKey>,
}

/// Accepts the root value: one report object, or an array of them.
struct RootVisitor<'s, 'a> {
    state: &'s mut ReportState<'a>,
}

impl<'de> Visitor<'de> for RootVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a Checkov report: an object with check_type and results, or an array of them")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        ReportVisitor { state: self.state }.visit_map(map)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(ReportSeed { state: self.state })?.is_some() {}
        Ok(())
    }
}

/// Reads one per-framework report of an array.
struct ReportSeed<'s, 'a> {
    state: &'s mut ReportState<'a>,
}

impl<'de> DeserializeSeed<'de> for ReportSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(ReportVisitor { state: self.state })
    }
}

/// Reads the keys of one report object.
struct ReportVisitor<'s, 'a> {
    state: &'s mut ReportState<'a>,
}

impl<'de> Visitor<'de> for ReportVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a Checkov report object with check_type and results")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut check_type: Option<String> = None;
        let mut recognized = false;
        let mut seen = SeenKeys::default();
        while let Some(key) = map.next_key::<String>()? {
            seen.push(&key);
            match key.as_str() {
                "check_type" => {
                    check_type = map.next_value::<Option<String>>()?;
                    recognized = true;
                }
                "results" => {
                    map.next_value_seed(ResultsSeed {
                        state: self.state,
                        check_type: check_type.as_deref(),
                    })?;
                    recognized = true;
                }
                "summary" => {
                    map.next_value::<IgnoredAny>()?;
                    recognized = true;
                }
                // The bare summary that Checkov writes when it scanned nothing.
                "checkov_version" => {
                    map.next_value::<IgnoredAny>()?;
                    recognized = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if recognized {
            Ok(())
        } else {
            Err(de::Error::custom(format!(
                "expected a Checkov report (an object with check_type and results), found {}; \
                 is this another tool's report?",
                seen.describe()
            )))
        }
    }
}

/// Reads a report's `results` object.
struct ResultsSeed<'s, 'a, 't> {
    state: &'s mut ReportState<'a>,
    check_type: Option<&'t str>,
}

impl<'de> DeserializeSeed<'de> for ResultsSeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ResultsSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("the results object of a Checkov report")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let status = match key.as_str() {
                "failed_checks" => None,
                "skipped_checks" => Some(SourceStatus::Suppressed),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            let state = &mut *self.state;
            let check_type = self.check_type;
            map.next_value_seed(EachElement::new("an array of Checkov checks", |check: Check| {
                state.emit(check, check_type, status);
                Ok(())
            }))?;
        }
        Ok(())
    }
}

/// One failed or skipped check.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Check {
    check_id: Option<String>,
    bc_check_id: Option<String>,
    check_name: Option<String>,
    check_result: Option<CheckResult>,
    code_block: Option<Vec<CodeLine>>,
    file_path: Option<String>,
    repo_file_path: Option<String>,
    file_line_range: Option<Vec<Option<i64>>>,
    resource: Option<String>,
    resource_address: Option<String>,
    check_class: Option<String>,
    guideline: Option<String>,
    severity: Option<CheckSeverity>,
    bc_category: Option<String>,
    description: Option<String>,
    short_description: Option<String>,
    details: Option<Vec<LooseText>>,
    #[serde(deserialize_with = "util::loose_text")]
    fixed_definition: Option<String>,
    vulnerability_details: Option<VulnerabilityDetails>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CheckResult {
    evaluated_keys: Option<Vec<LooseText>>,
    #[serde(deserialize_with = "util::loose_text")]
    suppress_comment: Option<String>,
}

/// One line of a `code_block`: `[line number, text]`.
#[derive(Debug, Default, Deserialize)]
struct CodeLine(LooseText, LooseText);

/// The severity of a check: a word (`"HIGH"`) in the JSON output, or an
/// object with a `name` (`{"name": "HIGH", "level": 3}`) where a Checkov
/// build serialized the severity object itself.
#[derive(Debug, Default)]
struct CheckSeverity(Option<String>);

impl<'de> Deserialize<'de> for CheckSeverity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<CheckSeverity, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Shape {
            Word(String),
            Object {
                #[serde(default)]
                name: Option<String>,
            },
        }
        let shape = Option::<Shape>::deserialize(deserializer)?;
        Ok(CheckSeverity(match shape {
            Some(Shape::Word(word)) => Some(word),
            Some(Shape::Object { name }) => name,
            None => None,
        }))
    }
}

/// The package facts of an `sca_package` or `sca_image` check.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct VulnerabilityDetails {
    id: Option<String>,
    severity: Option<String>,
    package_name: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    package_version: Option<String>,
    package_type: Option<String>,
    link: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    cvss: Option<String>,
    vector: Option<String>,
    description: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    lowest_fixed_version: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    fix_version: Option<String>,
    fixed_versions: Option<Vec<LooseText>>,
    license: Option<String>,
    status: Option<String>,
}

impl ReportState<'_> {
    /// Turns one check into a finding and sends it, with the component
    /// asset of a package finding the first time it appears.
    fn emit(&mut self, check: Check, check_type: Option<&str>, status: Option<SourceStatus>) {
        let finding = build_finding(check, check_type, status, self.repository.clone(), &self.target);
        if let Some(component) = &finding.component {
            self.component_asset(component);
        }
        self.sink.finding(finding);
    }

    fn component_asset(&mut self, component: &Component) {
        let identifier = match &component.version {
            Some(version) => format!("{}@{version}", component.name),
            None => component.name.clone(),
        };
        let mut asset = Asset::new(AssetKind::Component, &identifier, component.name.clone());
        if !self.components.insert(asset.key.clone()) {
            return;
        }
        if let Some(version) = &component.version {
            asset.attributes.insert("version".into(), version.clone());
        }
        if let Some(ecosystem) = &component.ecosystem {
            asset.attributes.insert("ecosystem".into(), ecosystem.clone());
        }
        let key = asset.key.clone();
        self.sink.asset(asset);
        self.sink.relationship(Relationship::new(
            self.repository.clone(),
            RelationshipKind::Contains,
            key,
        ));
    }
}

fn build_finding(
    check: Check,
    check_type: Option<&str>,
    status: Option<SourceStatus>,
    asset: AssetKey,
    target: &str,
) -> Finding {
    let details = check.vulnerability_details.as_ref();
    let check_id = util::non_empty(check.check_id.as_deref())
        .or_else(|| util::non_empty(check.bc_check_id.as_deref()))
        .unwrap_or_else(|| "unknown-check".to_string());
    let kind = finding_kind(&check_id, check_type, details);
    let title = title(&check, &check_id, kind);

    let mut finding = Finding::new(TOOL, check_id.clone(), kind, title, Severity::Medium, asset);
    if let Some(details) = details {
        add_package_facts(&mut finding, details);
    }
    finding.severity = severity(&check, &finding);
    finding.source_status = status;

    let range = check.file_line_range.as_deref().unwrap_or_default();
    finding.location.path =
        util::non_empty(check.file_path.as_deref()).or_else(|| util::non_empty(check.repo_file_path.as_deref()));
    finding.location.start_line = iac_shared::line_number(range.first().copied().flatten());
    finding.location.end_line = iac_shared::line_number(range.get(1).copied().flatten());

    let resource =
        util::non_empty(check.resource.as_deref()).or_else(|| util::non_empty(check.resource_address.as_deref()));
    finding.tool_fingerprint = resource.clone();
    finding.evidence = code_evidence(check.code_block.as_deref().unwrap_or_default());
    finding.description = describe(&check, &check_id, check_type, resource.as_deref(), &finding);
    if let Some(fixed) = util::non_empty(check.fixed_definition.as_deref()) {
        finding.fix.description = Some(util::truncate_text(&fixed, iac_shared::MAX_EVIDENCE_BYTES));
    }
    let links = [check.guideline.as_deref(), details.and_then(|d| d.link.as_deref())];
    for link in links.into_iter().filter_map(util::non_empty) {
        if !finding.references.contains(&link) {
            finding.references.push(link);
        }
    }

    let result = check.check_result.as_ref();
    let evaluated_keys = result
        .and_then(|r| r.evaluated_keys.as_ref())
        .map(|keys| keys.iter().filter_map(LooseText::text).collect::<Vec<_>>().join(", "))
        .filter(|keys| !keys.is_empty());
    let attributes = [
        ("check_type", check_type.and_then(|t| util::non_empty(Some(t)))),
        ("resource", resource),
        ("bc_check_id", util::non_empty(check.bc_check_id.as_deref())),
        ("check_class", util::non_empty(check.check_class.as_deref())),
        ("bc_category", util::non_empty(check.bc_category.as_deref())),
        ("evaluated_keys", evaluated_keys),
        ("repo_file_path", util::non_empty(check.repo_file_path.as_deref())),
        (
            "suppress_comment",
            result.and_then(|r| util::non_empty(r.suppress_comment.as_deref())),
        ),
        (
            "package_status",
            details.and_then(|d| util::non_empty(d.status.as_deref())),
        ),
    ];
    finding.attributes = attributes
        .into_iter()
        .filter_map(|(name, value)| value.map(|value| (name.to_string(), value)))
        .collect::<BTreeMap<_, _>>();
    finding.target = Some(target.to_string());
    finding
}

/// Picks the kind from what the check is about (see the module docs).
fn finding_kind(check_id: &str, check_type: Option<&str>, details: Option<&VulnerabilityDetails>) -> FindingKind {
    if let Some(details) = details {
        if util::non_empty(details.id.as_deref()).is_some() {
            return FindingKind::Vulnerability;
        }
        if util::non_empty(details.license.as_deref()).is_some() {
            return FindingKind::License;
        }
    }
    if check_type == Some("secrets") || check_id.starts_with("CKV_SECRET") {
        return FindingKind::Secret;
    }
    FindingKind::Misconfiguration
}

fn title(check: &Check, check_id: &str, kind: FindingKind) -> String {
    let details = check.vulnerability_details.as_ref();
    let package = details.and_then(|d| util::non_empty(d.package_name.as_deref()));
    let version = details.and_then(|d| util::non_empty(d.package_version.as_deref()));
    let package_text = match (&package, &version) {
        (Some(package), Some(version)) => Some(format!("{package}: {version}")),
        (Some(package), None) => Some(package.clone()),
        _ => None,
    };
    let name = util::non_empty(check.check_name.as_deref());
    match kind {
        FindingKind::Vulnerability => util::non_empty(check.short_description.as_deref())
            .or_else(|| {
                let id = details.and_then(|d| util::non_empty(d.id.as_deref()))?;
                Some(match &package_text {
                    Some(package) => format!("{id} - {package}"),
                    None => id,
                })
            })
            .or(name)
            .unwrap_or_else(|| check_id.to_string()),
        FindingKind::License => {
            let license = details.and_then(|d| util::non_empty(d.license.as_deref()));
            let subject = match (package_text, license) {
                (Some(package), Some(license)) => Some(format!("{package} ({license})")),
                (package, license) => package.or(license),
            };
            match (name, subject) {
                (Some(name), Some(subject)) => format!("{name}: {subject}"),
                (name, subject) => name.or(subject).unwrap_or_else(|| check_id.to_string()),
            }
        }
        _ => name.unwrap_or_else(|| check_id.to_string()),
    }
}

/// Returns the check's severity, else the package's severity word, else
/// the rating of its CVSS vector or score, else Medium (see the module docs).
fn severity(check: &Check, finding: &Finding) -> Severity {
    let word = check.severity.as_ref().and_then(|s| s.0.as_deref());
    if let Some(severity) = word.and_then(|w| w.parse().ok()) {
        return severity;
    }
    let details = check.vulnerability_details.as_ref();
    if let Some(severity) = details.and_then(|d| d.severity.as_deref()).and_then(|w| w.parse().ok()) {
        return severity;
    }
    if let Some(vector) = finding.max_cvss() {
        return Severity::from_cvss_score(vector.base_score());
    }
    let score = details
        .and_then(|d| d.cvss.as_deref())
        .and_then(|s| s.trim().parse::<f64>().ok());
    match score {
        Some(score) if (0.0..=10.0).contains(&score) => Severity::from_cvss_score(score),
        _ => Severity::Medium,
    }
}

/// Sets the vulnerability id, CVSS vector, component and fixed versions of
/// a package finding.
fn add_package_facts(finding: &mut Finding, details: &VulnerabilityDetails) {
    if let Some(id) = util::non_empty(details.id.as_deref()) {
        util::add_vulnerability_id(finding, &id);
    }
    if let Some(vector) = util::non_empty(details.vector.as_deref()) {
        util::add_cvss(finding, &vector);
    }
    if let Some(name) = util::non_empty(details.package_name.as_deref()) {
        finding.component = Some(Component {
            name,
            version: util::non_empty(details.package_version.as_deref()),
            purl: None,
            ecosystem: util::non_empty(details.package_type.as_deref()),
        });
    }

    // `N/A` is what Checkov writes when no release fixes the package.
    let fixed = details.fixed_versions.iter().flatten().filter_map(LooseText::text);
    let fallback = [details.lowest_fixed_version.as_deref(), details.fix_version.as_deref()];
    for version in fixed.chain(fallback.into_iter().filter_map(util::non_empty)) {
        if !version.eq_ignore_ascii_case("N/A") && !finding.fix.fixed_versions.contains(&version) {
            finding.fix.fixed_versions.push(version);
        }
    }
}

/// Renders a code block as `line | text` lines, cut at
/// [`iac_shared::MAX_EVIDENCE_BYTES`].
fn code_evidence(code_block: &[CodeLine]) -> Option<String> {
    let lines: Vec<String> = code_block
        .iter()
        .map(|CodeLine(number, text)| {
            let text = text.0.as_deref().unwrap_or_default().trim_end();
            // Package checks write line 0, which is no line.
            match number.text().filter(|number| number != "0") {
                Some(number) => format!("{number} | {text}"),
                None => text.to_string(),
            }
        })
        .collect();
    let text = lines.join("\n");
    (!text.trim().is_empty()).then(|| util::truncate_text(&text, iac_shared::MAX_EVIDENCE_BYTES))
}

/// Returns the report's description where a platform run wrote one, else a
/// sentence built from the check, followed by the check's `details`.
fn describe(
    check: &Check,
    check_id: &str,
    check_type: Option<&str>,
    resource: Option<&str>,
    finding: &Finding,
) -> Option<String> {
    let package_description = check
        .vulnerability_details
        .as_ref()
        .and_then(|d| util::non_empty(d.description.as_deref()));
    let given = util::non_empty(check.description.as_deref()).or(package_description);
    let built = || {
        let mut text = format!("Checkov check {check_id}");
        if let Some(check_type) = check_type {
            text.push_str(&format!(" ({check_type})"));
        }
        text.push_str(match finding.source_status {
            Some(SourceStatus::Suppressed) => " was skipped",
            _ => " failed",
        });
        if let Some(resource) = resource {
            text.push_str(&format!(" for resource {resource}"));
        }
        if let Some(path) = &finding.location.path {
            text.push_str(&format!(" in {path}"));
            match (finding.location.start_line, finding.location.end_line) {
                (Some(start), Some(end)) if end > start => text.push_str(&format!(", lines {start} to {end}")),
                (Some(start), _) => text.push_str(&format!(", line {start}")),
                _ => {}
            }
        }
        text.push('.');
        text
    };
    let details: Vec<String> = check.details.iter().flatten().filter_map(LooseText::text).collect();
    iac_shared::paragraphs([
        Some(given.unwrap_or_else(built)),
        (!details.is_empty()).then(|| details.join("\n")),
    ])
}
