//! Bandit JSON reports: weaknesses that Bandit's tests found in Python
//! source code.
//!
//! # Reads
//!
//! The JSON report of Bandit 1.x (`bandit -f json`): `{"errors": [...],
//! "generated_at": ..., "metrics": {...}, "results": [...]}`, each result
//! with `test_id`, `test_name`, `issue_text`, `issue_severity`,
//! `issue_confidence`, `issue_cwe` (`id`, `link`; since Bandit 1.7.3),
//! `filename`, `line_number`, `line_range`, `col_offset`, `code` and
//! `more_info`.
//!
//! # Field mapping
//!
//! | report | finding |
//! | --- | --- |
//! | `test_id` (`B303`) | `rule_id` |
//! | `issue_text` | `title` |
//! | `issue_severity` (`UNDEFINED` is Info) | `severity` |
//! | `issue_cwe.id` | `cwes` |
//! | `filename` as written (Windows reports keep their backslashes), `line_number`, last of `line_range`, `col_offset` + 1 | `location` |
//! | `code` | `evidence` |
//! | `more_info`, `issue_cwe.link` | `references` |
//! | `test_name`, `issue_confidence` | `attributes` |
//!
//! The kind is CodeWeakness, except for the hard-coded password tests
//! (B105, B106, B107), which are Secret. Their `issue_text` quotes the
//! password (`Possible hardcoded password: 'hunter2'`): the quoted value
//! becomes the finding's masked secret, and every occurrence of it in the
//! title, description and code is masked.
//!
//! # Scope target
//!
//! Bandit does not name the scanned project, so every finding belongs to
//! [`ParseContext::default_target`], a [`AssetKind::Repository`] asset.
//!
//! # Fingerprint
//!
//! Tool, test id, repository asset, file path (backslashes normalized to
//! slashes) and start line. Bandit gives no identifier of its own. It
//! reports some weaknesses twice (a query built by two concatenations),
//! and those twins get the same fingerprint, so they are one finding once
//! stored.
//!
//! # Not read yet
//!
//! `errors` (files Bandit failed to scan), `metrics`, `generated_at`,
//! `end_col_offset`. Bandit's SARIF, CSV, XML and HTML reports.
//!
//! # Reference
//!
//! <https://bandit.readthedocs.io/en/latest/formatters/json.html>

use std::io::BufRead;

use ctem_model::{Finding, FindingKind, MaskedSecret, Severity};
use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess};

use super::json_stream::{self, EachElement, RootFields};
use super::repository_scope::RepositoryScopes;
use super::secrets_shared::{self, Masker};
use crate::util;
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink};

const FORMAT_ID: &str = "bandit-json";
const TOOL: &str = "bandit";

const EXPECTING: &str = "a Bandit JSON report: an object with a results array";

/// The tests that report a hard-coded password and quote it.
const PASSWORD_TESTS: [&str; 3] = ["B105", "B106", "B107"];

/// The Bandit JSON report parser.
pub struct BanditJson;

impl Parser for BanditJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Bandit JSON",
            tool: "Bandit",
            versions: "1.x",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if !head.starts_with(b"{") {
            return Detection::No;
        }
        let has = |marker: &[u8]| util::contains(head, marker);
        // Bandit sorts its keys, so a long `metrics` object can push
        // `results` past the head. The per-file counters of `metrics` are
        // a marker of their own.
        let metrics = has(b"\"metrics\"") && has(b"\"_totals\"") && has(b"\"SEVERITY.");
        let result = has(b"\"test_id\"") && has(b"\"issue_severity\"") && has(b"\"issue_confidence\"");
        if metrics || result {
            Detection::Certain
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
    found_results: bool,
}

impl<'de> RootFields<'de> for Report<'_, '_> {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<(), A::Error> {
        if key != "results" {
            return map.next_value::<IgnoredAny>().map(|_| ());
        }
        self.found_results = true;
        map.next_value_seed(EachElement::new(
            "an array of Bandit results",
            "a Bandit result object",
            |result| self.emit(result),
        ))
    }

    fn finish(&mut self) -> Result<(), String> {
        if self.found_results {
            Ok(())
        } else {
            Err(format!(
                "expected {EXPECTING}, found an object without results; is this another tool's report?"
            ))
        }
    }
}

/// One result of the report.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BanditResult {
    #[serde(deserialize_with = "util::loose_text")]
    test_id: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    test_name: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    issue_text: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    issue_severity: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    issue_confidence: Option<String>,
    issue_cwe: Option<IssueCwe>,
    #[serde(deserialize_with = "util::loose_text")]
    filename: Option<String>,
    line_number: Option<u32>,
    line_range: Vec<u32>,
    col_offset: Option<u32>,
    #[serde(deserialize_with = "util::loose_text")]
    code: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    more_info: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct IssueCwe {
    #[serde(deserialize_with = "util::loose_text")]
    id: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    link: Option<String>,
}

/// Returns the password that a hard-coded password test quotes in its
/// text (`Possible hardcoded password: 'hunter2'`).
fn quoted_password(issue_text: &str) -> Option<&str> {
    let start = issue_text.find(": '")? + 3;
    let end = issue_text.rfind('\'')?;
    (end > start).then(|| &issue_text[start..end])
}

impl Report<'_, '_> {
    /// Turns one result into a finding and sends it. A result with neither
    /// a test id nor a text is no Bandit result, and stops the parse.
    fn emit(&mut self, result: BanditResult) -> Result<(), String> {
        let test_id = util::non_empty(result.test_id.as_deref());
        let issue_text = util::non_empty(result.issue_text.as_deref());
        if test_id.is_none() && issue_text.is_none() {
            return Err(
                "a result without test_id and issue_text is no Bandit result; is this another tool's report?"
                    .to_string(),
            );
        }
        let target = self.context.default_target;
        let asset = self.scopes.declare(self.sink, TOOL, target);

        let rule_id = test_id.unwrap_or_else(|| "unknown-test".to_string());
        let test_name = util::non_empty(result.test_name.as_deref());
        let is_password_test = PASSWORD_TESTS.contains(&rule_id.as_str());
        let mut masker = Masker::default();
        let secret: Option<MaskedSecret> = issue_text
            .as_deref()
            .filter(|_| is_password_test)
            .and_then(quoted_password)
            .map(|password| masker.add_secret(password));

        let title = issue_text.map_or_else(
            || test_name.clone().unwrap_or_else(|| rule_id.clone()),
            |text| masker.mask(&text),
        );
        let kind = if is_password_test {
            FindingKind::Secret
        } else {
            FindingKind::CodeWeakness
        };
        let mut finding = Finding::new(TOOL, rule_id.clone(), kind, title.clone(), Severity::Info, asset);
        finding.severity = util::severity_or_cvss(result.issue_severity.as_deref(), &finding);

        if let Some(cwe) = result.issue_cwe.as_ref().and_then(|cwe| cwe.id.as_deref()) {
            util::add_cwe(&mut finding, cwe);
        }
        let links = [
            result.more_info.as_deref(),
            result.issue_cwe.as_ref().and_then(|cwe| cwe.link.as_deref()),
        ];
        finding.references = links.into_iter().filter_map(|link| util::non_empty(link)).collect();

        finding.location.path = util::non_empty(result.filename.as_deref());
        finding.location.start_line = result.line_number.filter(|&line| line > 0);
        finding.location.end_line = result.line_range.iter().copied().max().filter(|&line| line > 0);
        finding.location.start_column = result.col_offset.map(|offset| offset.saturating_add(1));

        // A password test without a quoted value still has it in the code.
        let code_is_safe = !is_password_test || secret.is_some();
        finding.evidence = util::non_empty(result.code.as_deref())
            .filter(|_| code_is_safe)
            .map(|code| secrets_shared::clean_evidence(&masker.mask(&code)));
        finding.secret = secret;

        let confidence = util::non_empty(result.issue_confidence.as_deref());
        let mut description = format!("{title}\n\nBandit test {rule_id}");
        if let Some(name) = &test_name {
            description.push_str(&format!(" ({name})"));
        }
        if let Some(confidence) = &confidence {
            description.push_str(&format!(", confidence {confidence}"));
        }
        description.push('.');
        finding.description = Some(description);

        for (name, value) in [("test_name", test_name), ("confidence", confidence)] {
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
    fn password_is_read_from_text() {
        assert_eq!(
            quoted_password("Possible hardcoded password: 'hunter2'"),
            Some("hunter2")
        );
        assert_eq!(quoted_password("Possible hardcoded password: 'it's'"), Some("it's"));
        assert_eq!(quoted_password("Possible hardcoded password: ''"), None);
        assert_eq!(quoted_password("Try, Except, Pass detected."), None);
    }
}
