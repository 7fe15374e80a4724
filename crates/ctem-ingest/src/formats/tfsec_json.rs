//! tfsec JSON reports: failed Terraform security checks.
//!
//! # Reads
//!
//! The output of `tfsec --format json`, a root object whose `results` is an
//! array of results (or `null` when nothing was found), in the shapes that
//! tfsec wrote over its life:
//!
//! - before 0.40: `rule_id` (`GCP009`), `rule_description`,
//!   `rule_provider`, `link` (a sentence with one URL), `location`
//!   (`filename`, `start_line`, `end_line`), `description`, `impact`,
//!   `resolution`, `severity` (`ERROR`, `WARNING`, `INFO`) and `passed`;
//! - 0.40 to 0.63: `rule_id` (`aws-vpc-no-public-egress-sgr`),
//!   `legacy_rule_id`, `links`, `severity` (`CRITICAL` to `LOW`) and
//!   `status` (`failed`, `passed`, `ignored`);
//! - 1.x: `rule_id` (the AVD id, `AVD-AWS-0104`), `long_id` (the name
//!   that 0.40 to 0.63 called `rule_id`), `rule_service`, `warning`,
//!   `resource` and a numeric `status` (0 failed, 1 passed, 2 ignored).
//!
//! tfsec declares no format version in the report, so none is rejected.
//!
//! # Field mapping
//!
//! | report | finding |
//! | --- | --- |
//! | `long_id`, else `rule_id` | `rule_id` |
//! | `rule_description`, else `description` | `title` |
//! | `severity` (`ERROR` is High, `WARNING` Medium, `INFO` Info) | `severity` |
//! | (always) | `kind` Misconfiguration |
//! | `location.filename`, `start_line`, `end_line` | `location` |
//! | `description`, `impact` | `description` |
//! | `resolution` | `fix.description` |
//! | `links`, else the URL in `link` | `references` |
//! | `resource`, else the address quoted in `description`, with the start line | `tool_fingerprint` |
//! | `status` `ignored` (or 2) | `source_status` Suppressed |
//! | `rule_id` when `long_id` is the rule id, `legacy_rule_id`, `rule_provider`, `rule_service`, `impact`, `warning`, the resource | `attributes` |
//!
//! Passed results (`status` `passed` or 1, or `"passed": true`), which
//! tfsec writes with `--include-passed`, give no finding. Ignored results
//! (`--include-ignored`) were silenced with a `tfsec:ignore` comment, so
//! they are findings with `source_status` Suppressed rather than looking
//! fixed.
//!
//! # Scope target
//!
//! tfsec names no repository, so the scope is
//! [`ParseContext::default_target`], and the asset is an
//! [`AssetKind::Repository`] keyed by it.
//!
//! # Fingerprint
//!
//! Tool, rule id, repository asset, file path and, as the tool
//! fingerprint, the resource address with the start line
//! (`module.sg_nat:aws_security_group_rule.egress[0]:72`). A module used
//! twice gives two results at the same file and line that differ only by
//! resource, and one resource can fail a rule at two lines (`from_port` and
//! `to_port`), so both parts are needed. Without a resource the start line
//! alone is used.
//!
//! # Not read yet
//!
//! tfsec's CSV, JUnit, checkstyle and SARIF outputs (SARIF is read by the
//! `sarif` parser); the `rule_service` grouping beyond its attribute.
//!
//! # Memory
//!
//! Results stream: one is held at a time.
//!
//! # Reference
//!
//! <https://github.com/aquasecurity/tfsec> (`--format json`) and the JSON
//! formatter of `aquasecurity/defsec` (`pkg/formatters/json.go`).

use std::collections::BTreeMap;
use std::fmt;
use std::io::BufRead;

use ctem_model::{AssetKey, Finding, FindingKind, Severity, SourceStatus};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::iac_shared::{self, EachElement, SeenKeys};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "tfsec-json";
const TOOL: &str = "tfsec";

/// The tfsec JSON report parser.
pub struct TfsecJson;

impl Parser for TfsecJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "tfsec JSON",
            tool: "tfsec",
            versions: "tfsec 0.x (legacy and long rule ids) and 1.x (--format json)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if !head.starts_with(b"{") {
            return Detection::No;
        }
        let has = |key: &[u8]| util::contains(head, key);
        if has(b"\"results\"") && has(b"\"rule_description\"") && (has(b"\"rule_provider\"") || has(b"\"location\"")) {
            return Detection::Certain;
        }
        // An empty tfsec report has no marker of its own.
        let compact: Vec<u8> = head.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
        if compact == b"{\"results\":null}" || compact == b"{\"results\":[]}" {
            return Detection::Maybe;
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
}

/// Accepts the root object and streams its `results`.
struct RootVisitor<'s, 'a> {
    state: &'s mut ReportState<'a>,
}

impl<'de> Visitor<'de> for RootVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a tfsec report: an object with results")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut has_results = false;
        let mut seen = SeenKeys::default();
        while let Some(key) = map.next_key::<String>()? {
            seen.push(&key);
            if key != "results" {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let state = &mut *self.state;
            map.next_value_seed(EachElement::new("an array of tfsec results", |result: TfsecResult| {
                state.emit(result);
                Ok(())
            }))?;
            has_results = true;
        }
        if has_results {
            Ok(())
        } else {
            Err(de::Error::custom(format!(
                "expected a tfsec report (an object with results), found {}; is this another tool's report?",
                seen.describe()
            )))
        }
    }
}

/// One result in any of tfsec's shapes.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TfsecResult {
    rule_id: Option<String>,
    long_id: Option<String>,
    legacy_rule_id: Option<String>,
    rule_description: Option<String>,
    rule_provider: Option<String>,
    rule_service: Option<String>,
    impact: Option<String>,
    resolution: Option<String>,
    links: Option<Vec<Option<String>>>,
    link: Option<String>,
    description: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    severity: Option<String>,
    warning: Option<bool>,
    #[serde(deserialize_with = "util::loose_text")]
    status: Option<String>,
    passed: Option<bool>,
    resource: Option<String>,
    location: Option<TfsecLocation>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TfsecLocation {
    filename: Option<String>,
    start_line: Option<i64>,
    end_line: Option<i64>,
}

/// The meaning of a result's status: a finding, a suppressed finding or none.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Failed,
    Passed,
    Ignored,
}

fn outcome(result: &TfsecResult) -> Outcome {
    if result.passed == Some(true) {
        return Outcome::Passed;
    }
    // tfsec 1.x writes the status as a number: 0 failed, 1 passed, 2 ignored.
    match result.status.as_deref().map(str::trim) {
        Some("passed" | "1") => Outcome::Passed,
        Some("ignored" | "2") => Outcome::Ignored,
        _ => Outcome::Failed,
    }
}

impl ReportState<'_> {
    fn emit(&mut self, result: TfsecResult) {
        let outcome = outcome(&result);
        if outcome == Outcome::Passed {
            return;
        }
        let mut finding = build_finding(result, self.repository.clone(), &self.target);
        if outcome == Outcome::Ignored {
            finding.source_status = Some(SourceStatus::Suppressed);
        }
        self.sink.finding(finding);
    }
}

fn build_finding(result: TfsecResult, asset: AssetKey, target: &str) -> Finding {
    let short_id = util::non_empty(result.rule_id.as_deref());
    let long_id = util::non_empty(result.long_id.as_deref());
    let rule_id = long_id
        .clone()
        .or_else(|| short_id.clone())
        .unwrap_or_else(|| "unknown-rule".to_string());
    let description = util::non_empty(result.description.as_deref());
    let title = util::non_empty(result.rule_description.as_deref())
        .or_else(|| description.clone())
        .unwrap_or_else(|| rule_id.clone());

    let mut finding = Finding::new(
        TOOL,
        rule_id,
        FindingKind::Misconfiguration,
        title,
        Severity::Info,
        asset,
    );
    finding.severity = util::severity_or_cvss(result.severity.as_deref(), &finding);

    let location = result.location.unwrap_or_default();
    finding.location.path = util::non_empty(location.filename.as_deref());
    finding.location.start_line = iac_shared::line_number(location.start_line);
    finding.location.end_line = iac_shared::line_number(location.end_line);

    let resource = util::non_empty(result.resource.as_deref())
        .or_else(|| description.as_deref().and_then(quoted_resource).map(str::to_string));
    finding.tool_fingerprint = resource.as_ref().map(|resource| match finding.location.start_line {
        Some(line) => format!("{resource}:{line}"),
        None => resource.clone(),
    });

    let impact = util::non_empty(result.impact.as_deref());
    finding.description = iac_shared::paragraphs([description, impact.as_ref().map(|i| format!("Impact: {i}"))]);
    finding.fix.description = util::non_empty(result.resolution.as_deref());

    let links = result.links.unwrap_or_default().into_iter().flatten();
    let legacy_link = result.link.as_deref().and_then(first_url).map(str::to_string);
    for link in links.chain(legacy_link) {
        if let Some(link) = util::non_empty(Some(&link))
            && !finding.references.contains(&link)
        {
            finding.references.push(link);
        }
    }

    let avd_id = short_id.filter(|_| long_id.is_some());
    let attributes = [
        ("avd_id", avd_id),
        ("legacy_rule_id", util::non_empty(result.legacy_rule_id.as_deref())),
        ("rule_provider", util::non_empty(result.rule_provider.as_deref())),
        ("rule_service", util::non_empty(result.rule_service.as_deref())),
        ("impact", impact),
        ("resource", resource),
        ("warning", result.warning.filter(|w| *w).map(|_| "true".to_string())),
    ];
    finding.attributes = attributes
        .into_iter()
        .filter_map(|(name, value)| value.map(|value| (name.to_string(), value)))
        .collect::<BTreeMap<_, _>>();
    finding.target = Some(target.to_string());
    finding
}

/// Returns the resource address that tfsec 0.x quotes at the start of its
/// descriptions (`Resource 'aws_s3_bucket.logs' has ...`, `Block
/// 'keycloak_oidc_identity_provider.google' includes ...`).
fn quoted_resource(description: &str) -> Option<&str> {
    let rest = description
        .strip_prefix("Resource '")
        .or_else(|| description.strip_prefix("Block '"))?;
    let end = rest.find('\'')?;
    Some(&rest[..end]).filter(|resource| !resource.trim().is_empty())
}

/// Returns the first URL in a sentence such as the legacy `link`
/// (`See https://tfsec.dev/docs/general/GEN003/ for more information.`).
fn first_url(text: &str) -> Option<&str> {
    let start = text.find("https://").or_else(|| text.find("http://"))?;
    let url = text[start..].split_whitespace().next()?;
    Some(url.trim_end_matches(['.', ',', ')']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_resource_forms() {
        assert_eq!(
            quoted_resource("Resource 'module.a:aws_s3_bucket.b[0]' has no logging"),
            Some("module.a:aws_s3_bucket.b[0]")
        );
        assert_eq!(quoted_resource("Block 'x.y' includes a secret"), Some("x.y"));
        assert_eq!(quoted_resource("Resource '' is empty"), None);
        assert_eq!(quoted_resource("Resource 'unterminated"), None);
        assert_eq!(quoted_resource("The bucket 'x' is public"), None);
    }

    #[test]
    fn first_url_is_trimmed() {
        assert_eq!(
            first_url("See https://tfsec.dev/docs/general/GEN003/ for more information."),
            Some("https://tfsec.dev/docs/general/GEN003/")
        );
        assert_eq!(
            first_url("Read https://example.test/a."),
            Some("https://example.test/a")
        );
        assert_eq!(first_url("no link here"), None);
    }
}
