//! Semgrep AppSec Platform findings exports: the findings that Semgrep's
//! cloud platform (formerly Semgrep Pro, Semgrep App) tracks for a
//! deployment's repositories, with their triage state.
//!
//! # Reads
//!
//! The JSON that the platform's findings API returns (`GET
//! /api/v1/deployments/{slug}/findings`, API v1): `{"findings": [...]}`,
//! each finding with `rule_name`, `rule_message`, `severity`,
//! `confidence`, `location` (`file_path`, `line`, `column`, `end_line`),
//! `repository` (`name`, `url`), `ref`, `status`, `triage_state`,
//! `triage_reason`, `match_based_id`, `syntactic_id`, `line_of_code_url`,
//! `rule` (`message`, `cwe_names`, `owasp_names`,
//! `vulnerability_classes`), `assistant` (`autofix`, `guidance`,
//! `autotriage`, `component`), and for Supply Chain findings
//! `found_dependency` and `vulnerability_identifier`.
//!
//! # Field mapping
//!
//! | report | finding |
//! | --- | --- |
//! | `rule_name` | `rule_id` |
//! | first sentence of `rule_message`, else of `rule.message`, else the last part of `rule_name` | `title` |
//! | `rule_message` | `description` |
//! | `severity` (`critical`, `high`, `medium`, `low`, and the legacy `ERROR`, `WARNING`, `INFO` as High, Medium, Low) | `severity` |
//! | `rule.cwe_names` (`CWE-319: Cleartext ...`) | `cwes` |
//! | `location.file_path`, `line`, `column`, `end_line` | `location` |
//! | `match_based_id` | `tool_fingerprint` |
//! | `line_of_code_url`, `external_ticket.url` | `references` |
//! | `assistant.guidance`, `assistant.autofix.fix_code` | `fix.description` |
//! | `status`, `triage_state`, `triage_reason` | `source_status` (see below) |
//! | `found_dependency`, `vulnerability_identifier` | `component`, `vulnerability_ids` |
//! | `ref`, `status`, `triage_state`, `triage_reason`, `triage_comment`, `confidence`, `categories`, `created_at`, `rule.owasp_names`, `rule.vulnerability_classes`, `assistant.autotriage.verdict`, `assistant.component` | `attributes` |
//!
//! Source status: `status: fixed` is Fixed; an ignored finding (`status` or
//! `triage_state` `ignored`) is FalsePositive, WillNotFix
//! (`acceptable_risk`) or Suppressed after `triage_reason`; `triage_state:
//! reviewing` or `provisionally_ignored` is UnderInvestigation; other open
//! findings are Affected. `status: removed` (the rule or file left the
//! scan) states nothing about the weakness and gives no status.
//!
//! The kind is Vulnerability for Supply Chain findings, Secret for Secrets
//! findings (a `validation_state`, or the category `secrets`), else
//! CodeWeakness. A secret whose `validation_state` is `confirmed_valid` is
//! Critical: Semgrep logged in with it. The export holds no secret value.
//!
//! # Scope target
//!
//! `repository.url`, else `repository.name`, else
//! [`ParseContext::default_target`]: each a [`AssetKind::Repository`]
//! asset and a scope target. Supply Chain components are
//! [`AssetKind::Component`] assets that their repository Contains.
//!
//! # Fingerprint
//!
//! Tool, rule id, repository asset, component, file path and
//! `match_based_id`, the platform's own identity of a finding, which stays
//! the same when the code around the match moves. Without it the start
//! line stands in.
//!
//! # Not read yet
//!
//! `review_comments`, `sourcing_policy`, `first_seen_scan_id`, the dates
//! besides `created_at`, and `assistant.guidance.instructions` beyond the
//! fix text.
//!
//! # Reference
//!
//! <https://semgrep.dev/api/v1/docs/#tag/Finding>

use std::io::BufRead;

use ctem_model::{Component, Finding, FindingKind, Severity, SourceStatus};
use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess};

use super::json_stream::{self, EachElement, RootFields};
use super::repository_scope::RepositoryScopes;
use super::semgrep_shared;
use crate::util;
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink};

const FORMAT_ID: &str = "semgrep-pro-json";
const TOOL: &str = "semgrep";

const EXPECTING: &str = "a Semgrep AppSec Platform findings export: an object with a findings array";

/// The largest file that detection reads as a possible empty export.
const EMPTY_EXPORT_MAX_BYTES: usize = 256;

/// The Semgrep AppSec Platform findings export parser.
pub struct SemgrepProJson;

impl Parser for SemgrepProJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Semgrep AppSec Platform findings JSON",
            tool: "Semgrep AppSec Platform (Semgrep Pro)",
            versions: "findings API v1",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let trimmed = util::trim_start(head);
        if !trimmed.starts_with(b"{") {
            return Detection::No;
        }
        let has = |marker: &[u8]| util::contains(trimmed, marker);
        if has(b"\"findings\"")
            && has(b"\"rule_name\"")
            && (has(b"\"match_based_id\"") || has(b"\"syntactic_id\"") || has(b"\"triage_state\""))
        {
            return Detection::Certain;
        }
        // An export without findings has nothing but the empty array, so
        // only a short file can be one.
        if trimmed.len() > EMPTY_EXPORT_MAX_BYTES {
            return Detection::No;
        }
        match serde_json::from_slice::<serde_json::Value>(trimmed) {
            Ok(serde_json::Value::Object(root))
                if root.len() == 1
                    && root
                        .get("findings")
                        .and_then(|f| f.as_array())
                        .is_some_and(Vec::is_empty) =>
            {
                Detection::Maybe
            }
            _ => Detection::No,
        }
    }

    fn parse(
        &self,
        context: &ParseContext<'_>,
        reader: &mut dyn BufRead,
        sink: &mut dyn Sink,
    ) -> Result<(), ParseError> {
        let mut export = Export {
            context,
            sink,
            scopes: RepositoryScopes::default(),
            found_findings: false,
        };
        json_stream::read_document(context, FORMAT_ID, reader, |deserializer| {
            json_stream::read_root_object(deserializer, EXPECTING, &mut export)
        })?;
        export.scopes.finish(export.sink, TOOL, context.default_target);
        Ok(())
    }
}

/// State of one export's parse.
struct Export<'a, 'c> {
    context: &'a ParseContext<'c>,
    sink: &'a mut dyn Sink,
    scopes: RepositoryScopes,
    found_findings: bool,
}

impl<'de> RootFields<'de> for Export<'_, '_> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        if key != "findings" {
            return map.next_value::<IgnoredAny>().map(|_| ());
        }
        self.found_findings = true;
        map.next_value_seed(EachElement::new(
            "an array of Semgrep findings",
            "a Semgrep finding object",
            |finding| {
                self.emit(finding);
                Ok(())
            },
        ))
    }

    fn finish(&mut self) -> Result<(), String> {
        if self.found_findings {
            Ok(())
        } else {
            Err(format!(
                "expected {EXPECTING}, found an object without findings; is this another tool's report?"
            ))
        }
    }
}

/// One finding of the export.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PlatformFinding {
    #[serde(deserialize_with = "util::loose_text")]
    rule_name: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    rule_message: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    severity: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    confidence: Option<String>,
    #[serde(deserialize_with = "json_stream::text_list")]
    categories: Vec<String>,
    location: FindingLocation,
    repository: Repository,
    #[serde(rename = "ref", deserialize_with = "util::loose_text")]
    git_ref: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    status: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    triage_state: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    triage_reason: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    triage_comment: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    match_based_id: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    line_of_code_url: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    created_at: Option<String>,
    external_ticket: ExternalTicket,
    rule: Rule,
    assistant: Assistant,
    #[serde(deserialize_with = "util::loose_text")]
    validation_state: Option<String>,
    found_dependency: Option<FoundDependency>,
    #[serde(deserialize_with = "util::loose_text")]
    vulnerability_identifier: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FindingLocation {
    #[serde(deserialize_with = "util::loose_text")]
    file_path: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    line: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    column: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    end_line: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Repository {
    #[serde(deserialize_with = "util::loose_text")]
    name: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ExternalTicket {
    #[serde(deserialize_with = "util::loose_text")]
    external_slug: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Rule {
    #[serde(deserialize_with = "util::loose_text")]
    message: Option<String>,
    #[serde(deserialize_with = "json_stream::text_list")]
    cwe_names: Vec<String>,
    #[serde(deserialize_with = "json_stream::text_list")]
    owasp_names: Vec<String>,
    #[serde(deserialize_with = "json_stream::text_list")]
    vulnerability_classes: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Assistant {
    autofix: Autofix,
    guidance: Guidance,
    autotriage: Autotriage,
    component: AssistantComponent,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Autofix {
    #[serde(deserialize_with = "util::loose_text")]
    fix_code: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Guidance {
    #[serde(deserialize_with = "util::loose_text")]
    summary: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Autotriage {
    #[serde(deserialize_with = "util::loose_text")]
    verdict: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AssistantComponent {
    #[serde(deserialize_with = "util::loose_text")]
    tag: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    risk: Option<String>,
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
}

/// Returns a line or column number, or `None` for an unknown (0) one.
fn position(text: Option<&str>) -> Option<u32> {
    text.and_then(|t| t.trim().parse::<u32>().ok()).filter(|&n| n > 0)
}

/// Joins a list of report texts for one attribute, or `None` when empty.
fn joined(texts: &[String]) -> Option<String> {
    let texts: Vec<&str> = texts.iter().map(|t| t.trim()).filter(|t| !t.is_empty()).collect();
    (!texts.is_empty()).then(|| texts.join("; "))
}

/// Maps the platform's status and triage to a source status.
fn source_status(
    status: Option<&str>,
    triage_state: Option<&str>,
    triage_reason: Option<&str>,
) -> Option<SourceStatus> {
    let lower = |text: Option<&str>| text.unwrap_or_default().trim().to_ascii_lowercase();
    let (status, triage_state, reason) = (lower(status), lower(triage_state), lower(triage_reason));
    let ignored = || match reason.as_str() {
        "false_positive" => SourceStatus::FalsePositive,
        "acceptable_risk" => SourceStatus::WillNotFix,
        _ => SourceStatus::Suppressed,
    };
    match (status.as_str(), triage_state.as_str()) {
        ("fixed", _) => Some(SourceStatus::Fixed),
        ("removed", _) => None,
        ("ignored", _) | (_, "ignored") => Some(ignored()),
        (_, "reviewing" | "provisionally_ignored") => Some(SourceStatus::UnderInvestigation),
        ("open", _) => Some(SourceStatus::Affected),
        _ => None,
    }
}

impl Export<'_, '_> {
    fn emit(&mut self, item: PlatformFinding) {
        let target = util::non_empty(item.repository.url.as_deref())
            .or_else(|| util::non_empty(item.repository.name.as_deref()))
            .unwrap_or_else(|| self.context.default_target.to_string());
        let asset = self.scopes.declare(self.sink, TOOL, &target);

        let rule_id = util::non_empty(item.rule_name.as_deref()).unwrap_or_else(|| "unknown-rule".to_string());
        let message = util::non_empty(item.rule_message.as_deref());
        let title = message
            .as_deref()
            .or(item.rule.message.as_deref())
            .and_then(semgrep_shared::title_from_message)
            .unwrap_or_else(|| semgrep_shared::title_from_rule_id(&rule_id));
        let confirmed_valid = item
            .validation_state
            .as_deref()
            .is_some_and(|state| state.eq_ignore_ascii_case("confirmed_valid"));
        let severity = match item.severity.as_deref().and_then(semgrep_shared::severity) {
            _ if confirmed_valid => Severity::Critical,
            Some(severity) => severity,
            None => Severity::Info,
        };
        let is_secret =
            item.validation_state.is_some() || item.categories.iter().any(|c| c.eq_ignore_ascii_case("secrets"));
        let kind = match (&item.found_dependency, is_secret) {
            (Some(_), _) => FindingKind::Vulnerability,
            (None, true) => FindingKind::Secret,
            (None, false) => FindingKind::CodeWeakness,
        };

        let mut finding = Finding::new(TOOL, rule_id, kind, title, severity, asset.clone());
        finding.description = message;
        semgrep_shared::add_cwe_names(&mut finding, &item.rule.cwe_names);
        finding.location.path = util::non_empty(item.location.file_path.as_deref());
        finding.location.start_line = position(item.location.line.as_deref());
        finding.location.start_column = position(item.location.column.as_deref());
        finding.location.end_line = position(item.location.end_line.as_deref());
        finding.tool_fingerprint = util::non_empty(item.match_based_id.as_deref());
        finding.source_status = source_status(
            item.status.as_deref(),
            item.triage_state.as_deref(),
            item.triage_reason.as_deref(),
        );

        finding
            .references
            .extend(util::non_empty(item.line_of_code_url.as_deref()));
        let ticket_url = util::non_empty(item.external_ticket.url.as_deref()).filter(|url| url.starts_with("http"));
        finding.references.extend(ticket_url);

        let fix_parts: Vec<String> = [
            util::non_empty(item.assistant.guidance.summary.as_deref()),
            util::non_empty(item.assistant.autofix.fix_code.as_deref()).map(|code| format!("Suggested fix:\n{code}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        finding.fix.description = (!fix_parts.is_empty()).then(|| fix_parts.join("\n\n"));

        if let Some(dependency) = item.found_dependency
            && let Some(name) = util::non_empty(dependency.package.as_deref())
        {
            let component = Component {
                name,
                version: util::non_empty(dependency.version.as_deref()),
                purl: None,
                ecosystem: util::non_empty(dependency.ecosystem.as_deref()),
            };
            self.scopes.component(self.sink, &asset, &component);
            finding.component = Some(component);
            if let Some(transitivity) = util::non_empty(dependency.transitivity.as_deref()) {
                finding.attributes.insert("transitivity".to_string(), transitivity);
            }
        }
        if let Some(id) = item.vulnerability_identifier.as_deref() {
            util::add_vulnerability_id(&mut finding, id);
        }

        let attributes = [
            ("ref", item.git_ref),
            ("status", item.status),
            ("triage_state", item.triage_state),
            ("triage_reason", item.triage_reason),
            ("triage_comment", item.triage_comment),
            ("confidence", item.confidence),
            ("categories", joined(&item.categories)),
            ("created_at", item.created_at),
            ("owasp", joined(&item.rule.owasp_names)),
            ("vulnerability_class", joined(&item.rule.vulnerability_classes)),
            ("autotriage_verdict", item.assistant.autotriage.verdict),
            ("component_tag", item.assistant.component.tag),
            ("component_risk", item.assistant.component.risk),
            ("external_ticket", item.external_ticket.external_slug),
            ("validation_state", item.validation_state),
        ];
        for (name, value) in attributes {
            if let Some(value) = util::non_empty(value.as_deref()) {
                finding.attributes.insert(name.to_string(), value);
            }
        }

        finding.target = Some(target);
        self.sink.finding(finding);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_triage_map() {
        let cases = [
            (Some("open"), Some("untriaged"), None, Some(SourceStatus::Affected)),
            (Some("fixed"), Some("untriaged"), None, Some(SourceStatus::Fixed)),
            (Some("removed"), None, None, None),
            (
                Some("open"),
                Some("ignored"),
                Some("false_positive"),
                Some(SourceStatus::FalsePositive),
            ),
            (
                Some("ignored"),
                None,
                Some("acceptable_risk"),
                Some(SourceStatus::WillNotFix),
            ),
            (Some("ignored"), None, Some("no_time"), Some(SourceStatus::Suppressed)),
            (
                Some("open"),
                Some("reviewing"),
                None,
                Some(SourceStatus::UnderInvestigation),
            ),
            (None, None, None, None),
        ];
        for (status, triage, reason, expected) in cases {
            assert_eq!(
                source_status(status, triage, reason),
                expected,
                "{status:?} {triage:?} {reason:?}"
            );
        }
    }
}
