//! gosec JSON reports: weaknesses that gosec's rules found in Go source
//! code.
//!
//! # Reads
//!
//! The JSON report of gosec 2.x (`gosec -fmt json`): `{"Golang errors":
//! {...}, "Issues": [...], "Stats": {...}, "GosecVersion": ...}`, each
//! issue with `severity`, `confidence`, `cwe` (`id`, `url`), `rule_id`,
//! `details`, `file`, `code`, `line` (a number as text, or a range such as
//! `36-39`), `column`, `nosec`, `suppressions` and `autofix`.
//!
//! The report declares no format version (`GosecVersion` is the tool's
//! release), so the parser checks the shape instead: a root object with
//! `Issues`, whose elements have a `rule_id` or `details`.
//!
//! # Field mapping
//!
//! | report | finding |
//! | --- | --- |
//! | `rule_id` (`G104`) | `rule_id` |
//! | `details` | `title` |
//! | `severity` | `severity` |
//! | `cwe.id` | `cwes` |
//! | `file`, `line` (start and end of a range), `column` | `location` |
//! | `code` | `evidence` |
//! | the rule's page on securego.io, `cwe.url` | `references` |
//! | `autofix` | `fix.description` |
//! | `nosec: true` or a non-empty `suppressions` (issues kept by `-track-suppressions`) | `source_status` Suppressed |
//! | `confidence`, `suppressions[].kind` and `justification` | `attributes` |
//!
//! The kind is CodeWeakness, except for G101 (hard-coded credentials),
//! which is Secret. gosec does not isolate the credential, and G101's
//! `code` shows it in clear, so that code is not kept.
//!
//! # Scope target
//!
//! gosec does not name the scanned module, so every finding belongs to
//! [`ParseContext::default_target`], a [`AssetKind::Repository`] asset.
//!
//! # Fingerprint
//!
//! Tool, rule id, repository asset, file path and start line. gosec gives
//! no identifier of its own.
//!
//! # Not read yet
//!
//! `Golang errors` (packages that failed to build), `Stats` and
//! `GosecVersion`. gosec's SARIF output is read by the `sarif` parser.
//!
//! # Reference
//!
//! <https://github.com/securego/gosec#output-formats> and the `Issue` type
//! in `issue/issue.go` of gosec 2.

use std::io::BufRead;

use ctem_model::{Finding, FindingKind, Severity, SourceStatus};
use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess};

use super::json_stream::{self, EachElement, RootFields};
use super::repository_scope::RepositoryScopes;
use super::secrets_shared;
use crate::util;
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink};

const FORMAT_ID: &str = "gosec-json";
const TOOL: &str = "gosec";

const EXPECTING: &str = "a gosec JSON report: an object with an Issues array";

/// The rule that reports hard-coded credentials.
const CREDENTIALS_RULE: &str = "G101";

/// The gosec JSON report parser.
pub struct GosecJson;

impl Parser for GosecJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "gosec JSON",
            tool: "gosec",
            versions: "2.x",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if !head.starts_with(b"{") {
            return Detection::No;
        }
        let has = |marker: &[u8]| util::contains(head, marker);
        let report = has(b"\"Issues\"") && (has(b"\"Stats\"") || has(b"\"Golang errors\"") || has(b"\"GosecVersion\""));
        if report { Detection::Certain } else { Detection::No }
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
            found_issues: false,
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
    found_issues: bool,
}

impl<'de> RootFields<'de> for Report<'_, '_> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        if key != "Issues" {
            return map.next_value::<IgnoredAny>().map(|_| ());
        }
        self.found_issues = true;
        map.next_value_seed(EachElement::new(
            "an array of gosec issues",
            "a gosec issue object",
            |issue| self.emit(issue),
        ))
    }

    fn finish(&mut self) -> Result<(), String> {
        if self.found_issues {
            Ok(())
        } else {
            Err(format!(
                "expected {EXPECTING}, found an object without Issues; is this another tool's report?"
            ))
        }
    }
}

/// One issue of the report.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Issue {
    #[serde(deserialize_with = "util::loose_text")]
    severity: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    confidence: Option<String>,
    cwe: Option<IssueCwe>,
    #[serde(deserialize_with = "util::loose_text")]
    rule_id: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    details: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    file: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    code: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    line: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    column: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    nosec: Option<String>,
    suppressions: Option<Vec<Suppression>>,
    #[serde(deserialize_with = "util::loose_text")]
    autofix: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct IssueCwe {
    #[serde(deserialize_with = "util::loose_text")]
    id: Option<String>,
    #[serde(rename = "url", deserialize_with = "util::loose_text")]
    link: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Suppression {
    #[serde(deserialize_with = "util::loose_text")]
    kind: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    justification: Option<String>,
}

/// Returns the start and end lines of gosec's `line`, which is one number
/// (`79`) or a range (`36-39`), as text.
fn line_range(text: &str) -> (Option<u32>, Option<u32>) {
    let number = |part: &str| part.trim().parse::<u32>().ok().filter(|&n| n > 0);
    match text.split_once('-') {
        Some((start, end)) => (number(start), number(end)),
        None => (number(text), None),
    }
}

/// Returns the page of a rule on securego.io, for rule ids such as `G104`.
fn rule_page(rule_id: &str) -> Option<String> {
    let digits = rule_id.strip_prefix('G')?;
    let valid = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    valid.then(|| format!("https://securego.io/docs/rules/{}.html", rule_id.to_ascii_lowercase()))
}

impl Report<'_, '_> {
    /// Turns one issue into a finding and sends it. An issue with neither a
    /// rule id nor details is no gosec issue, and stops the parse.
    fn emit(&mut self, issue: Issue) -> Result<(), String> {
        let rule_id = util::non_empty(issue.rule_id.as_deref());
        let details = util::non_empty(issue.details.as_deref());
        let Some(rule_id) = rule_id.or_else(|| details.is_some().then(|| "unknown-rule".to_string())) else {
            return Err(
                "an issue without rule_id and details is no gosec issue; is this another tool's report?".to_string(),
            );
        };
        let target = self.context.default_target;
        let asset = self.scopes.declare(self.sink, TOOL, target);

        let is_credential = rule_id == CREDENTIALS_RULE;
        let kind = if is_credential {
            FindingKind::Secret
        } else {
            FindingKind::CodeWeakness
        };
        let title = details.unwrap_or_else(|| rule_id.clone());
        let mut finding = Finding::new(TOOL, rule_id.clone(), kind, title.clone(), Severity::Info, asset);
        finding.severity = util::severity_or_cvss(issue.severity.as_deref(), &finding);

        if let Some(cwe) = issue.cwe.as_ref().and_then(|cwe| cwe.id.as_deref()) {
            util::add_cwe(&mut finding, cwe);
        }
        finding.references.extend(rule_page(&rule_id));
        finding
            .references
            .extend(issue.cwe.as_ref().and_then(|cwe| util::non_empty(cwe.link.as_deref())));

        let (start, end) = issue.line.as_deref().map_or((None, None), line_range);
        finding.location.path = util::non_empty(issue.file.as_deref());
        finding.location.start_line = start;
        finding.location.end_line = end;
        finding.location.start_column = issue
            .column
            .as_deref()
            .and_then(|c| c.trim().parse().ok())
            .filter(|&c| c > 0);
        if !is_credential {
            finding.evidence = util::non_empty(issue.code.as_deref()).map(|code| secrets_shared::clean_evidence(&code));
        }
        finding.fix.description = util::non_empty(issue.autofix.as_deref());

        let suppressions = issue.suppressions.unwrap_or_default();
        if issue.nosec.as_deref() == Some("true") || !suppressions.is_empty() {
            finding.source_status = Some(SourceStatus::Suppressed);
        }
        let joined = |texts: Vec<String>| (!texts.is_empty()).then(|| texts.join("; "));
        let kinds = suppressions
            .iter()
            .filter_map(|s| util::non_empty(s.kind.as_deref()))
            .collect();
        let justifications = suppressions
            .iter()
            .filter_map(|s| util::non_empty(s.justification.as_deref()))
            .collect();

        let confidence = util::non_empty(issue.confidence.as_deref());
        let mut description = format!("{title}\n\ngosec rule {rule_id}");
        if let Some(confidence) = &confidence {
            description.push_str(&format!(", confidence {confidence}"));
        }
        description.push('.');
        finding.description = Some(description);

        let attributes = [
            ("confidence", confidence),
            ("suppression_kind", joined(kinds)),
            ("justification", joined(justifications)),
        ];
        for (name, value) in attributes {
            if let Some(value) = value {
                finding.attributes.insert(name.to_string(), value);
            }
        }
        finding.target = Some(target.to_string());
        self.sink.finding(finding);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ranges_split() {
        assert_eq!(line_range("79"), (Some(79), None));
        assert_eq!(line_range("36-39"), (Some(36), Some(39)));
        assert_eq!(line_range("x"), (None, None));
        assert_eq!(line_range("0"), (None, None));
    }

    #[test]
    fn rule_pages_are_lowercase() {
        assert_eq!(
            rule_page("G104").as_deref(),
            Some("https://securego.io/docs/rules/g104.html")
        );
        assert_eq!(rule_page("custom"), None);
        assert_eq!(rule_page("G"), None);
    }
}
