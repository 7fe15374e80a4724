//! ESLint JSON reports: the messages that ESLint rules, security plugins
//! among them (`eslint-plugin-security`, `eslint-plugin-no-secrets`),
//! reported on JavaScript and TypeScript files.
//!
//! # Reads
//!
//! The output of ESLint's `json` formatter (`eslint -f json`, ESLint 2 to
//! 9): an array with one object per linted file, each with `filePath`,
//! `messages` and, since ESLint 8.8, `suppressedMessages`. Each message has
//! `ruleId`, `severity` (1 warning, 2 error), `message`, `line`, `column`,
//! `endLine`, `nodeType`, `messageId`, `fatal`, `fix`, `suggestions` and,
//! when suppressed, `suppressions`.
//!
//! # Field mapping
//!
//! | report | finding |
//! | --- | --- |
//! | `ruleId`; `parse-error` for a fatal message without one (the file did not parse), `unused-disable-directive` or `unknown-rule` for other messages without one | `rule_id` |
//! | first line of `message` | `title` |
//! | `message` | `description` |
//! | `severity`: 2 (error) Medium, 1 (warning) Low; fatal messages Info | `severity` |
//! | `filePath`, `line`, `column`, `endLine` | `location` |
//! | `suggestions[].desc`, or a note that `eslint --fix` fixes it when there is a `fix` | `fix.description` |
//! | the rule's documentation page, for core rules (ids without a plugin prefix) | `references` |
//! | a message of `suppressedMessages` | `source_status` Suppressed |
//! | `nodeType`, `messageId`, `fatal`, `suppressions[].justification`, the severity word | `attributes` |
//!
//! ESLint's severity is a project's build policy (an error fails the lint
//! run, a warning does not), not an impact rating, and most rules flag
//! patterns to review rather than proven weaknesses. So an error is
//! Medium and a warning Low. (DefectDojo rates them High and Medium.) A
//! fatal message means the file did not parse and was not checked: Info,
//! so that the gap in coverage is seen.
//!
//! Every finding is CodeWeakness, except those of
//! `eslint-plugin-no-secrets`, which are Secret. Their message quotes the
//! string it found (`Found a string with entropy 4.9 : "..."`): that value
//! becomes the masked secret, and it is masked in the title and
//! description.
//!
//! # Scope target
//!
//! ESLint does not name the project, so every finding belongs to
//! [`ParseContext::default_target`], a [`AssetKind::Repository`] asset.
//!
//! # Fingerprint
//!
//! Tool, rule id, repository asset, file path and start line. ESLint gives
//! no identifier of its own.
//!
//! # Not read yet
//!
//! `source` and `output` (the whole file text, before and after fixes),
//! the counters, `usedDeprecatedRules`, `endColumn`. ESLint's SARIF output
//! (`@microsoft/eslint-formatter-sarif`) is read by the `sarif` parser.
//!
//! # Reference
//!
//! <https://eslint.org/docs/latest/use/formatters/#json> and
//! <https://eslint.org/docs/latest/integrate/nodejs-api#-lintmessage-type>

use std::io::BufRead;

use ctem_model::{Finding, FindingKind, Severity, SourceStatus};
use serde::Deserialize;
use serde::de::DeserializeSeed;

use super::json_stream::{self, EachElement};
use super::repository_scope::RepositoryScopes;
use super::secrets_shared::Masker;
use crate::util;
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink};

const FORMAT_ID: &str = "eslint-json";
const TOOL: &str = "eslint";

/// The plugin whose messages quote the secret they found.
const NO_SECRETS_PREFIX: &str = "no-secrets/";

/// The ESLint JSON report parser.
pub struct EslintJson;

impl Parser for EslintJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "ESLint JSON",
            tool: "ESLint",
            versions: "json formatter of ESLint 2 to 9",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if !head.starts_with(b"[") {
            return Detection::No;
        }
        let has = |marker: &[u8]| util::contains(head, marker);
        if has(b"\"filePath\"") && has(b"\"messages\"") && (has(b"\"errorCount\"") || has(b"\"warningCount\"")) {
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
        let mut scopes = RepositoryScopes::default();
        json_stream::read_document(context, FORMAT_ID, reader, |deserializer| {
            let files = EachElement::new(
                "an ESLint JSON report: an array of file results",
                "an ESLint file result object",
                |file: FileResult| emit_file(context, sink, &mut scopes, file),
            );
            files.deserialize(deserializer)
        })?;
        scopes.finish(sink, TOOL, context.default_target);
        Ok(())
    }
}

/// The messages of one linted file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct FileResult {
    #[serde(deserialize_with = "util::loose_text")]
    file_path: Option<String>,
    messages: Option<Vec<Message>>,
    suppressed_messages: Option<Vec<Message>>,
}

/// One message of a rule, or of the parser for a fatal one.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Message {
    #[serde(deserialize_with = "util::loose_text")]
    rule_id: Option<String>,
    severity: Option<u8>,
    #[serde(deserialize_with = "util::loose_text")]
    message: Option<String>,
    line: Option<u32>,
    column: Option<u32>,
    end_line: Option<u32>,
    #[serde(deserialize_with = "util::loose_text")]
    node_type: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    message_id: Option<String>,
    fatal: Option<bool>,
    fix: Option<serde::de::IgnoredAny>,
    suggestions: Option<Vec<Suggestion>>,
    suppressions: Option<Vec<Suppression>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Suggestion {
    #[serde(deserialize_with = "util::loose_text")]
    desc: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Suppression {
    #[serde(deserialize_with = "util::loose_text")]
    justification: Option<String>,
}

/// Sends the findings of one file result. A file result without
/// `filePath` is no ESLint result, and stops the parse.
fn emit_file(
    context: &ParseContext<'_>,
    sink: &mut dyn Sink,
    scopes: &mut RepositoryScopes,
    file: FileResult,
) -> Result<(), String> {
    let Some(path) = util::non_empty(file.file_path.as_deref()) else {
        return Err("a file result without filePath is no ESLint result; is this another tool's report?".to_string());
    };
    let target = context.default_target;
    let messages = file.messages.unwrap_or_default().into_iter().map(|m| (m, false));
    let suppressed = file
        .suppressed_messages
        .unwrap_or_default()
        .into_iter()
        .map(|m| (m, true));
    for (message, is_suppressed) in messages.chain(suppressed) {
        let asset = scopes.declare(sink, TOOL, target);
        let mut finding = build_finding(message, is_suppressed, &path, asset);
        finding.target = Some(target.to_string());
        sink.finding(finding);
    }
    Ok(())
}

/// The maximum length of a title, in characters.
const MAX_TITLE_CHARS: usize = 200;

/// Returns a title from a message: its first line, cut after
/// [`MAX_TITLE_CHARS`] characters. Parse errors quote source lines, and
/// custom rules write long messages.
fn title_of(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default().trim();
    if line.chars().count() <= MAX_TITLE_CHARS {
        return line.to_string();
    }
    let cut: String = line.chars().take(MAX_TITLE_CHARS).collect();
    format!("{cut}…")
}

/// Returns the string that `eslint-plugin-no-secrets` quotes at the end of
/// its messages (`Found a string with entropy 4.9 : "..."`).
fn quoted_secret(message: &str) -> Option<&str> {
    let start = message.rfind(" : \"")? + 4;
    let end = message.rfind('"')?;
    (end > start).then(|| &message[start..end])
}

fn build_finding(message: Message, is_suppressed: bool, path: &str, asset: ctem_model::AssetKey) -> Finding {
    let fatal = message.fatal == Some(true);
    let text = util::non_empty(message.message.as_deref());
    let rule_id = util::non_empty(message.rule_id.as_deref()).unwrap_or_else(|| {
        let rule = match &text {
            _ if fatal => "parse-error",
            Some(text) if text.contains("eslint-disable") => "unused-disable-directive",
            _ => "unknown-rule",
        };
        rule.to_string()
    });

    let is_secret = rule_id.starts_with(NO_SECRETS_PREFIX);
    let mut masker = Masker::default();
    let secret = text
        .as_deref()
        .filter(|_| is_secret)
        .and_then(quoted_secret)
        .map(|clear| masker.add_secret(clear));
    let text = text.map(|t| masker.mask(&t));

    let title = text.as_deref().map(title_of).unwrap_or_else(|| rule_id.clone());
    let (severity, severity_word) = match (fatal, message.severity) {
        (true, _) => (Severity::Info, None),
        (false, Some(2)) => (Severity::Medium, Some("error")),
        (false, Some(1)) => (Severity::Low, Some("warning")),
        (false, _) => (Severity::Info, None),
    };
    let kind = if is_secret {
        FindingKind::Secret
    } else {
        FindingKind::CodeWeakness
    };

    let mut finding = Finding::new(TOOL, rule_id.clone(), kind, title, severity, asset);
    finding.description = text;
    finding.secret = secret;
    finding.location.path = Some(path.to_string());
    finding.location.start_line = message.line.filter(|&line| line > 0);
    finding.location.start_column = message.column.filter(|&column| column > 0);
    finding.location.end_line = message.end_line.filter(|&line| line > 0);

    let is_core_rule = message.rule_id.is_some() && !rule_id.contains('/') && !rule_id.starts_with('@');
    if is_core_rule {
        finding
            .references
            .push(format!("https://eslint.org/docs/latest/rules/{rule_id}"));
    }

    let suggestions: Vec<String> = message
        .suggestions
        .unwrap_or_default()
        .iter()
        .filter_map(|suggestion| util::non_empty(suggestion.desc.as_deref()))
        .map(|desc| masker.mask(&desc))
        .collect();
    finding.fix.description = if !suggestions.is_empty() {
        Some(suggestions.join("\n"))
    } else {
        message
            .fix
            .map(|_| "ESLint fixes this automatically with `eslint --fix`.".to_string())
    };

    if is_suppressed {
        finding.source_status = Some(SourceStatus::Suppressed);
    }
    let justifications: Vec<String> = message
        .suppressions
        .unwrap_or_default()
        .iter()
        .filter_map(|suppression| util::non_empty(suppression.justification.as_deref()))
        .collect();
    let attributes = [
        ("node_type", message.node_type),
        ("message_id", message.message_id),
        ("eslint_severity", severity_word.map(str::to_string)),
        ("fatal", fatal.then(|| "true".to_string())),
        (
            "justification",
            (!justifications.is_empty()).then(|| justifications.join("; ")),
        ),
    ];
    for (name, value) in attributes {
        if let Some(value) = util::non_empty(value.as_deref()) {
            finding.attributes.insert(name.to_string(), masker.mask(&value));
        }
    }
    finding
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_is_first_line() {
        assert_eq!(
            title_of("Parsing error: Unexpected token\n  at line 3"),
            "Parsing error: Unexpected token"
        );
        let long = "x".repeat(300);
        assert_eq!(title_of(&long).chars().count(), MAX_TITLE_CHARS + 1);
    }

    #[test]
    fn secret_is_read_from_message() {
        assert_eq!(
            quoted_secret("Found a string with entropy 4.9 : \"c2VjcmV0LXRva2Vu\""),
            Some("c2VjcmV0LXRva2Vu")
        );
        assert_eq!(
            quoted_secret("Found a string that matches \"AWS\" : \"AKIA\""),
            Some("AKIA")
        );
        assert_eq!(quoted_secret("Generic Object Injection Sink"), None);
    }
}
