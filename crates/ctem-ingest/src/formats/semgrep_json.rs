//! Semgrep JSON reports: code weaknesses, secrets and vulnerable
//! dependencies that Semgrep rules matched in a source tree.
//!
//! # Reads
//!
//! Two shapes, distinguished by their root key:
//!
//! - the output of `semgrep --json` (Semgrep CLI 0.x and 1.x, Community
//!   Edition and the Pro engine alike): `{"results": [...], "errors": [...],
//!   "paths": {...}, "version": ...}`, with each result's `check_id`,
//!   `path`, `start`, `end` and `extra` (`message`, `severity`, `metadata`,
//!   `lines`, `fingerprint`, `is_ignored`, `fix`, `fix_regex`,
//!   `validation_state`, `engine_kind`, `sca_info`);
//! - the Semgrep Supply Chain export of the deployments API:
//!   `{"vulns": [...], "hasMore": ..., "cursor": ...}`, with each
//!   vulnerability's `advisory`, `matchedDependency`,
//!   `dependencyFileLocation`, `triage`, `repositoryName` and
//!   `closestSafeDependency`.
//!
//! The findings export of the Semgrep AppSec Platform (`{"findings":
//! [...]}`) is the `semgrep-pro-json` format.
//!
//! Neither shape declares a format version (`version` is Semgrep's own
//! release), so the parser checks the shape instead: a root object with
//! `results` or `vulns`, whose elements have a `check_id`, or an advisory
//! rule id or title.
//!
//! # Field mapping
//!
//! CLI results:
//!
//! | report | finding |
//! | --- | --- |
//! | `check_id` | `rule_id` |
//! | first sentence of `extra.message`, else the last part of `check_id` | `title` |
//! | `extra.message` | `description` |
//! | `extra.severity` (`ERROR` High, `WARNING` Medium, `INFO` Low, as Semgrep documents them; `CRITICAL`, `HIGH`, `MEDIUM`, `LOW` as written; `EXPERIMENT`, `INVENTORY` Info) | `severity` |
//! | `metadata.cwe` (a string or a list of `CWE-89: ...` names) | `cwes` |
//! | `metadata.references`, `source-rule-url`, `source` | `references` |
//! | `path`, `start.line`, `start.col`, `end.line` | `location` |
//! | `extra.lines`, unless `requires login` or a secret rule | `evidence` |
//! | `extra.fix`, `extra.fix_regex` | `fix.description` |
//! | `extra.fingerprint`, unless `requires login` | `tool_fingerprint` |
//! | `extra.is_ignored: true` (a `nosemgrep` comment) | `source_status` Suppressed |
//! | `metadata.confidence`, `likelihood`, `impact`, `category`, `subcategory`, `owasp`, `technology`, `vulnerability_class`, `extra.engine_kind`, `extra.validation_state` | `attributes` |
//! | `extra.sca_info.dependency_match.found_dependency` | `component`, `location.start_line` |
//! | `metadata.sca-vuln-database-identifier`, `sca-fix-versions` | `vulnerability_ids`, `fix.fixed_versions` |
//!
//! The kind is Vulnerability for Supply Chain results (with `sca_info`),
//! Secret for secret rules (a `validation_state`, `metadata.product:
//! secrets`, or `secrets` among the rule's technologies), else
//! CodeWeakness. A secret whose `validation_state` is `CONFIRMED_VALID` is
//! Critical: Semgrep logged in with it. Semgrep does not isolate the secret
//! of a result, so for secret rules the matched `lines` are not kept at
//! all: they would hold the secret in clear.
//!
//! Supply Chain export: `advisory.ruleId` is the rule id, `title` the
//! title, `advisory.severity` the severity, `advisory.references.cveIds`
//! and the GHSA ids of `advisory.references.urls` the vulnerability ids,
//! `cweIds` the CWEs, `matchedDependency` the component,
//! `closestSafeDependency` the fixed version, `dependencyFileLocation` the
//! location, and `triage.status` the source status (`NEW` and `FIXING`
//! Affected, `REVIEWING` UnderInvestigation, `FIXED` and `CLOSED` Fixed,
//! `IGNORED` FalsePositive, WillNotFix or Suppressed after
//! `dismissReason`). Every vulnerability is kind Vulnerability, and its
//! repository Contains its component.
//!
//! # Scope target
//!
//! CLI output does not name the scanned repository, so its findings belong
//! to [`ParseContext::default_target`], a [`AssetKind::Repository`] asset.
//! The Supply Chain export names the repository of each vulnerability
//! (`repositoryName`); each is a repository asset and a scope target.
//!
//! # Fingerprint
//!
//! Tool, rule id, repository asset, component (Supply Chain only), file
//! path, and Semgrep's `fingerprint` where the report has one, which stays
//! the same when the code around the match moves. Without it (scans run
//! without logging in write `requires login`) the start line stands in.
//!
//! DefectDojo merges results with the same rule, path and line into one
//! finding with several occurrences. ctem keeps each result, and results
//! with the same rule, path and line get the same fingerprint, so they are
//! one finding once stored.
//!
//! # Not read yet
//!
//! `errors` (files Semgrep failed to parse, rules that failed), `paths`,
//! `version`, `metavars` and `dataflow_trace`; the export's `usages`,
//! `hasMore` and `cursor` (a paged export is read one page per file).
//!
//! # Reference
//!
//! The CLI output schema: `semgrep_output_v1.atd` in
//! <https://github.com/semgrep/semgrep-interfaces>; severities:
//! <https://semgrep.dev/docs/kb/rules/understand-severities>.

use std::io::BufRead;

use ctem_model::{AssetKey, Component, Finding, FindingKind, Severity, SourceStatus};
use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess};

use super::json_stream::{self, EachElement, RootFields};
use super::repository_scope::RepositoryScopes;
use super::secrets_shared;
use super::semgrep_shared::{self, REQUIRES_LOGIN};
use crate::util;
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink};

const FORMAT_ID: &str = "semgrep-json";
const TOOL: &str = "semgrep";

const EXPECTING: &str = "a Semgrep JSON report: an object with a results array (semgrep --json) \
                         or a vulns array (Semgrep Supply Chain export)";

/// The Semgrep JSON report parser.
pub struct SemgrepJson;

impl Parser for SemgrepJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Semgrep JSON",
            tool: "Semgrep",
            versions: "semgrep --json 0.x and 1.x; Semgrep Supply Chain vulns export",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if !head.starts_with(b"{") {
            return Detection::No;
        }
        let has = |marker: &[u8]| util::contains(head, marker);
        let cli_result = has(b"\"check_id\"") && has(b"\"extra\"") && has(b"\"start\"");
        let supply_chain = has(b"\"vulns\"") && has(b"\"advisory\"") && has(b"\"dependencyFileLocation\"");
        if cli_result || supply_chain {
            return Detection::Certain;
        }
        // An empty CLI report has only `results` and `errors`; Bandit and
        // SARIF reports have a `results` key too, with their own markers.
        let empty_cli = has(b"\"results\"")
            && has(b"\"errors\"")
            && !has(b"\"generated_at\"")
            && !has(b"\"metrics\"")
            && !has(b"\"runs\"");
        let empty_export = has(b"\"vulns\"") && has(b"\"hasMore\"");
        if empty_cli || empty_export {
            Detection::Maybe
        } else {
            Detection::No
        }
    }

    fn parse(
        &self,
        context: &ParseContext<'_>,
        reader: &mut dyn BufRead,
        sink: &mut dyn Sink,
    ) -> Result<(), ParseError> {
        let mut report = Report {
            context,
            sink,
            scopes: RepositoryScopes::default(),
            found_results: false,
            found_findings_key: false,
        };
        json_stream::read_document(context, FORMAT_ID, reader, |deserializer| {
            json_stream::read_root_object(deserializer, EXPECTING, &mut report)
        })?;
        report.scopes.finish(report.sink, TOOL, context.default_target);
        Ok(())
    }
}

/// State of one report's parse.
struct Report<'a, 'c> {
    context: &'a ParseContext<'c>,
    sink: &'a mut dyn Sink,
    scopes: RepositoryScopes,
    /// Whether the root had a `results` or `vulns` array.
    found_results: bool,
    /// Whether the root had the `findings` key of the platform export.
    found_findings_key: bool,
}

impl<'de> RootFields<'de> for Report<'_, '_> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        match key {
            "results" => {
                self.found_results = true;
                map.next_value_seed(EachElement::new(
                    "an array of Semgrep results",
                    "a Semgrep result object",
                    |result| self.emit_result(result),
                ))
            }
            "vulns" => {
                self.found_results = true;
                map.next_value_seed(EachElement::new(
                    "an array of Semgrep Supply Chain vulnerabilities",
                    "a Semgrep Supply Chain vulnerability object",
                    |vuln| self.emit_vuln(vuln),
                ))
            }
            _ => {
                self.found_findings_key |= key == "findings";
                map.next_value::<IgnoredAny>().map(|_| ())
            }
        }
    }

    fn finish(&mut self) -> Result<(), String> {
        if self.found_results {
            Ok(())
        } else if self.found_findings_key {
            Err("this is a Semgrep AppSec Platform findings export (a findings array), \
                 not semgrep --json output: read it as semgrep-pro-json"
                .to_string())
        } else {
            Err(format!(
                "expected {EXPECTING}, found an object without either; is this another tool's report?"
            ))
        }
    }
}

/// One result of `semgrep --json`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CliResult {
    #[serde(deserialize_with = "util::loose_text")]
    check_id: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    path: Option<String>,
    start: TextPosition,
    end: TextPosition,
    extra: Extra,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TextPosition {
    #[serde(deserialize_with = "util::loose_text")]
    line: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    col: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Extra {
    #[serde(deserialize_with = "util::loose_text")]
    message: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    severity: Option<String>,
    metadata: Metadata,
    #[serde(deserialize_with = "util::loose_text")]
    lines: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    fingerprint: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    is_ignored: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    fix: Option<String>,
    fix_regex: Option<FixRegex>,
    #[serde(deserialize_with = "util::loose_text")]
    validation_state: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    engine_kind: Option<String>,
    sca_info: Option<ScaInfo>,
}

/// The rule metadata that Semgrep copies into each result. Rule authors
/// write what they like here, so every field is read leniently.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Metadata {
    #[serde(deserialize_with = "json_stream::text_list")]
    cwe: Vec<String>,
    #[serde(deserialize_with = "json_stream::text_list")]
    owasp: Vec<String>,
    #[serde(deserialize_with = "json_stream::text_list")]
    references: Vec<String>,
    #[serde(deserialize_with = "util::loose_text")]
    confidence: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    likelihood: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    impact: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    category: Option<String>,
    #[serde(deserialize_with = "json_stream::text_list")]
    subcategory: Vec<String>,
    #[serde(deserialize_with = "json_stream::text_list")]
    technology: Vec<String>,
    #[serde(deserialize_with = "json_stream::text_list")]
    vulnerability_class: Vec<String>,
    #[serde(deserialize_with = "util::loose_text")]
    product: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    source: Option<String>,
    #[serde(rename = "source-rule-url", deserialize_with = "util::loose_text")]
    source_rule_url: Option<String>,
    #[serde(rename = "sca-vuln-database-identifier", deserialize_with = "util::loose_text")]
    sca_vulnerability_id: Option<String>,
    /// A list of `{package: version}` objects.
    #[serde(rename = "sca-fix-versions")]
    sca_fix_versions: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FixRegex {
    #[serde(deserialize_with = "util::loose_text")]
    regex: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    replacement: Option<String>,
}

/// The dependency that a Supply Chain rule matched.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ScaInfo {
    #[serde(deserialize_with = "util::loose_text")]
    reachable: Option<String>,
    dependency_match: DependencyMatch,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DependencyMatch {
    found_dependency: FoundDependency,
    #[serde(deserialize_with = "util::loose_text")]
    lockfile: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FoundDependency {
    #[serde(deserialize_with = "util::loose_text")]
    package: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    version: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    ecosystem: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    transitivity: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    line_number: Option<String>,
}

/// One vulnerability of the Supply Chain export.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Vuln {
    #[serde(deserialize_with = "util::loose_text")]
    title: Option<String>,
    advisory: Advisory,
    #[serde(deserialize_with = "util::loose_text")]
    exposure_type: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    repository_id: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    repository_name: Option<String>,
    matched_dependency: Dependency,
    closest_safe_dependency: Dependency,
    dependency_file_location: FileLocation,
    triage: Triage,
    #[serde(deserialize_with = "util::loose_text")]
    transitivity: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    package_manager: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    opened_at: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Advisory {
    #[serde(deserialize_with = "util::loose_text")]
    rule_id: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    title: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    description: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    ecosystem: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    severity: Option<String>,
    references: AdvisoryReferences,
    #[serde(deserialize_with = "util::loose_text")]
    reachability: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    reachable_if: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct AdvisoryReferences {
    #[serde(deserialize_with = "json_stream::text_list")]
    cve_ids: Vec<String>,
    #[serde(deserialize_with = "json_stream::text_list")]
    cwe_ids: Vec<String>,
    #[serde(deserialize_with = "json_stream::text_list")]
    owasp_ids: Vec<String>,
    #[serde(deserialize_with = "json_stream::text_list")]
    urls: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Dependency {
    #[serde(deserialize_with = "util::loose_text")]
    name: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    version_specifier: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct FileLocation {
    #[serde(deserialize_with = "util::loose_text")]
    path: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    start_line: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    start_col: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    end_line: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Triage {
    #[serde(deserialize_with = "util::loose_text")]
    status: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    dismiss_reason: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    issue_url: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    pr_url: Option<String>,
}

/// Returns a line or column number, or `None` for missing or non-numeric
/// text and for the 0 that reports write when the position is unknown.
fn position(text: Option<&str>) -> Option<u32> {
    text.and_then(|t| t.trim().parse::<u32>().ok()).filter(|&n| n > 0)
}

/// Inserts the attributes whose values are present and not empty.
fn insert_attributes<'n>(finding: &mut Finding, attributes: impl IntoIterator<Item = (&'n str, Option<String>)>) {
    for (name, value) in attributes {
        if let Some(value) = util::non_empty(value.as_deref()) {
            finding.attributes.insert(name.to_string(), value);
        }
    }
}

/// Joins a list of report texts for one attribute, or `None` when empty.
fn joined(texts: &[String]) -> Option<String> {
    let texts: Vec<&str> = texts.iter().map(|t| t.trim()).filter(|t| !t.is_empty()).collect();
    (!texts.is_empty()).then(|| texts.join("; "))
}

/// Adds a reference unless the finding has it already.
fn add_reference(finding: &mut Finding, reference: Option<&str>) {
    if let Some(reference) = util::non_empty(reference)
        && !finding.references.contains(&reference)
    {
        finding.references.push(reference);
    }
}

/// Returns the GHSA id of a GitHub advisory URL
/// (`https://github.com/advisories/GHSA-6628-q6j9-w8vg`).
fn ghsa_of_url(url: &str) -> Option<&str> {
    let start = url.find("/advisories/GHSA-")? + "/advisories/".len();
    let id = &url[start..];
    let end = id.find(['/', '?', '#']).unwrap_or(id.len());
    Some(&id[..end])
}

impl Report<'_, '_> {
    /// Returns the repository asset of a target, declaring it once.
    fn repository(&mut self, target: Option<&str>) -> (AssetKey, String) {
        let target = util::non_empty(target).unwrap_or_else(|| self.context.default_target.to_string());
        let key = self.scopes.declare(self.sink, TOOL, &target);
        (key, target)
    }

    /// Turns one CLI result into a finding and sends it. A result without
    /// `check_id` is no Semgrep result, and stops the parse.
    fn emit_result(&mut self, result: CliResult) -> Result<(), String> {
        let Some(rule_id) = util::non_empty(result.check_id.as_deref()) else {
            return Err("a result without check_id is no Semgrep result; is this another tool's report?".to_string());
        };
        let (asset, target) = self.repository(None);
        let extra = result.extra;
        let metadata = extra.metadata;

        let message = util::non_empty(extra.message.as_deref());
        let title = message
            .as_deref()
            .and_then(semgrep_shared::title_from_message)
            .unwrap_or_else(|| semgrep_shared::title_from_rule_id(&rule_id));

        let is_secret = extra.validation_state.is_some()
            || metadata
                .product
                .as_deref()
                .is_some_and(|p| p.eq_ignore_ascii_case("secrets"))
            || metadata.technology.iter().any(|t| t.eq_ignore_ascii_case("secrets"));
        let kind = match (&extra.sca_info, is_secret) {
            (Some(_), _) => FindingKind::Vulnerability,
            (None, true) => FindingKind::Secret,
            (None, false) => FindingKind::CodeWeakness,
        };
        let confirmed_valid = extra
            .validation_state
            .as_deref()
            .is_some_and(|state| state.eq_ignore_ascii_case("CONFIRMED_VALID"));
        let severity = match extra.severity.as_deref().and_then(semgrep_shared::severity) {
            _ if confirmed_valid => Severity::Critical,
            Some(severity) => severity,
            None => Severity::Info,
        };

        let mut finding = Finding::new(TOOL, rule_id, kind, title, severity, asset.clone());
        finding.description = message;
        semgrep_shared::add_cwe_names(&mut finding, &metadata.cwe);
        for reference in &metadata.references {
            add_reference(&mut finding, Some(reference));
        }
        add_reference(&mut finding, metadata.source_rule_url.as_deref());
        add_reference(&mut finding, metadata.source.as_deref());

        finding.location.path = util::non_empty(result.path.as_deref());
        finding.location.start_line = position(result.start.line.as_deref());
        finding.location.start_column = position(result.start.col.as_deref());
        finding.location.end_line = position(result.end.line.as_deref());

        let known = |text: Option<&str>| util::non_empty(text).filter(|t| t != REQUIRES_LOGIN);
        if kind != FindingKind::Secret {
            finding.evidence = known(extra.lines.as_deref()).map(|lines| secrets_shared::clean_evidence(&lines));
        }
        finding.tool_fingerprint = known(extra.fingerprint.as_deref());
        finding.fix.description = fix_text(extra.fix.as_deref(), extra.fix_regex.as_ref());
        if extra.is_ignored.as_deref() == Some("true") {
            finding.source_status = Some(SourceStatus::Suppressed);
        }

        insert_attributes(
            &mut finding,
            [
                ("confidence", metadata.confidence),
                ("likelihood", metadata.likelihood),
                ("impact", metadata.impact),
                ("category", metadata.category),
                ("subcategory", joined(&metadata.subcategory)),
                ("owasp", joined(&metadata.owasp)),
                ("technology", joined(&metadata.technology)),
                ("vulnerability_class", joined(&metadata.vulnerability_class)),
                ("engine_kind", extra.engine_kind),
                ("validation_state", extra.validation_state),
                (
                    "reachable",
                    extra.sca_info.as_ref().and_then(|sca| sca.reachable.clone()),
                ),
            ],
        );

        if let Some(sca) = extra.sca_info {
            let found = sca.dependency_match.found_dependency;
            if let Some(name) = util::non_empty(found.package.as_deref()) {
                let component = Component {
                    name: name.clone(),
                    version: util::non_empty(found.version.as_deref()),
                    purl: None,
                    ecosystem: util::non_empty(found.ecosystem.as_deref()),
                };
                self.scopes.component(self.sink, &asset, &component);
                finding.fix.fixed_versions = fix_versions(metadata.sca_fix_versions.as_ref(), &name);
                finding.component = Some(component);
            }
            if let Some(id) = metadata.sca_vulnerability_id.as_deref() {
                util::add_vulnerability_id(&mut finding, id);
            }
            if let Some(line) = position(found.line_number.as_deref()) {
                finding.location.start_line = Some(line);
            }
            if finding.location.path.is_none() {
                finding.location.path = util::non_empty(sca.dependency_match.lockfile.as_deref());
            }
            if let Some(transitivity) = util::non_empty(found.transitivity.as_deref()) {
                finding.attributes.insert("transitivity".to_string(), transitivity);
            }
        }

        finding.target = Some(target);
        self.sink.finding(finding);
        Ok(())
    }

    /// Turns one vulnerability of the Supply Chain export into a finding
    /// and sends it. A vulnerability with neither a rule id nor a title
    /// stops the parse.
    fn emit_vuln(&mut self, vuln: Vuln) -> Result<(), String> {
        let advisory = vuln.advisory;
        let references = advisory.references;
        let title = util::non_empty(vuln.title.as_deref()).or_else(|| util::non_empty(advisory.title.as_deref()));
        let rule_id =
            util::non_empty(advisory.rule_id.as_deref()).or_else(|| title.as_deref().map(secrets_shared::slug));
        let Some(rule_id) = rule_id.filter(|id| !id.is_empty()) else {
            return Err(
                "a vulnerability without advisory.ruleId and title is no Semgrep Supply Chain \
                        vulnerability; is this another tool's report?"
                    .to_string(),
            );
        };
        let title = title.unwrap_or_else(|| rule_id.clone());
        let (asset, target) = self.repository(vuln.repository_name.as_deref());
        let severity = advisory
            .severity
            .as_deref()
            .and_then(semgrep_shared::severity)
            .unwrap_or(Severity::Info);

        let mut finding = Finding::new(
            TOOL,
            rule_id,
            FindingKind::Vulnerability,
            title,
            severity,
            asset.clone(),
        );
        finding.description = util::non_empty(advisory.description.as_deref());
        for cve in &references.cve_ids {
            util::add_vulnerability_id(&mut finding, cve);
        }
        for url in &references.urls {
            if let Some(ghsa) = ghsa_of_url(url) {
                util::add_vulnerability_id(&mut finding, ghsa);
            }
            add_reference(&mut finding, Some(url));
        }
        semgrep_shared::add_cwe_names(&mut finding, &references.cwe_ids);

        let location = vuln.dependency_file_location;
        finding.location.path = util::non_empty(location.path.as_deref());
        finding.location.start_line = position(location.start_line.as_deref());
        finding.location.start_column = position(location.start_col.as_deref());
        finding.location.end_line = position(location.end_line.as_deref());
        add_reference(&mut finding, location.url.as_deref());

        if let Some(name) = util::non_empty(vuln.matched_dependency.name.as_deref()) {
            let component = Component {
                name: name.clone(),
                version: util::non_empty(vuln.matched_dependency.version_specifier.as_deref()),
                purl: None,
                ecosystem: util::non_empty(advisory.ecosystem.as_deref()),
            };
            self.scopes.component(self.sink, &asset, &component);
            let safe = vuln.closest_safe_dependency;
            let same_package = safe.name.as_deref().is_none_or(|safe_name| safe_name == name);
            if let Some(version) = util::non_empty(safe.version_specifier.as_deref()).filter(|_| same_package) {
                finding.fix.fixed_versions.push(version);
            }
            finding.component = Some(component);
        }

        let triage = vuln.triage;
        finding.source_status = triage_status(triage.status.as_deref(), triage.dismiss_reason.as_deref());
        insert_attributes(
            &mut finding,
            [
                ("exposure", vuln.exposure_type),
                ("reachability", advisory.reachability),
                ("reachable_if", advisory.reachable_if),
                ("transitivity", vuln.transitivity),
                ("package_manager", vuln.package_manager),
                ("repository_id", vuln.repository_id),
                ("owasp", joined(&references.owasp_ids)),
                ("opened_at", vuln.opened_at),
                ("triage_status", triage.status),
                ("issue_url", triage.issue_url),
                ("pr_url", triage.pr_url),
            ],
        );

        finding.target = Some(target);
        self.sink.finding(finding);
        Ok(())
    }
}

/// Describes Semgrep's autofix: the replacement text of `fix`, or the
/// regular expression replacement of `fix_regex`.
fn fix_text(fix: Option<&str>, fix_regex: Option<&FixRegex>) -> Option<String> {
    if let Some(fix) = util::non_empty(fix) {
        return Some(format!("Replace the matched code with: {fix}"));
    }
    let fix_regex = fix_regex?;
    let regex = util::non_empty(fix_regex.regex.as_deref())?;
    let replacement = fix_regex.replacement.as_deref().unwrap_or_default();
    Some(format!(
        "Replace the matches of the regular expression `{regex}` in the matched code with `{replacement}`."
    ))
}

/// Returns the fixed versions of `package` in a rule's `sca-fix-versions`
/// (a list of `{package: version}` objects).
fn fix_versions(value: Option<&serde_json::Value>, package: &str) -> Vec<String> {
    let Some(serde_json::Value::Array(entries)) = value else {
        return Vec::new();
    };
    let mut versions = Vec::new();
    for entry in entries {
        if let Some(serde_json::Value::String(version)) = entry.get(package)
            && !versions.contains(version)
        {
            versions.push(version.clone());
        }
    }
    versions
}

/// Maps the triage status of the Supply Chain export.
fn triage_status(status: Option<&str>, dismiss_reason: Option<&str>) -> Option<SourceStatus> {
    let status = status?.trim().to_ascii_uppercase();
    let reason = dismiss_reason.unwrap_or_default().trim().to_ascii_uppercase();
    match status.as_str() {
        "NEW" | "FIXING" => Some(SourceStatus::Affected),
        "REVIEWING" => Some(SourceStatus::UnderInvestigation),
        "FIXED" | "CLOSED" => Some(SourceStatus::Fixed),
        "IGNORED" => Some(match reason.as_str() {
            "FALSE_POSITIVE" => SourceStatus::FalsePositive,
            "ACCEPTABLE_RISK" => SourceStatus::WillNotFix,
            _ => SourceStatus::Suppressed,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ghsa_is_read_from_url() {
        assert_eq!(
            ghsa_of_url("https://github.com/advisories/GHSA-6628-q6j9-w8vg"),
            Some("GHSA-6628-q6j9-w8vg")
        );
        assert_eq!(ghsa_of_url("https://nvd.nist.gov/vuln/detail/CVE-2023-1428"), None);
    }

    #[test]
    fn fix_versions_match_package() {
        let value = serde_json::json!([{"grpc": "1.53.0"}, {"grpcio": "1.53.0"}, {"grpcio": 7}]);
        assert_eq!(fix_versions(Some(&value), "grpcio"), ["1.53.0"]);
        assert!(fix_versions(Some(&serde_json::json!("1.0")), "grpcio").is_empty());
    }

    #[test]
    fn triage_maps_status() {
        assert_eq!(triage_status(Some("NEW"), None), Some(SourceStatus::Affected));
        assert_eq!(
            triage_status(Some("CLOSED"), Some("UNKNOWN_REASON")),
            Some(SourceStatus::Fixed)
        );
        assert_eq!(
            triage_status(Some("IGNORED"), Some("FALSE_POSITIVE")),
            Some(SourceStatus::FalsePositive)
        );
        assert_eq!(triage_status(Some("other"), None), None);
    }
}
