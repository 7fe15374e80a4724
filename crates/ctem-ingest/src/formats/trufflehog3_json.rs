//! trufflehog3 JSON reports: secrets that trufflehog3, a Python fork of
//! truffleHog 2, found in a repository's history or a source tree.
//!
//! # Reads
//!
//! The JSON report of trufflehog3 (`trufflehog3 --format json`): an array
//! of issues, in either of two shapes:
//!
//! - before 3.0, the record of truffleHog 2: `branch`, `commit` (the
//!   message), `commitHash`, `date`, `path`, `reason` and `stringsFound`;
//! - 3.x: `rule` (`id`, `message`, `severity`), `path`, `line`, `secret`,
//!   `context` (source lines by number), `id`, `branch`, `message` (the
//!   commit message), `author`, `commit` and `date`.
//!
//! # Field mapping
//!
//! 3.x issues:
//!
//! | report | finding |
//! | --- | --- |
//! | `rule.id` (else `rule.message` slugified) | `rule_id` |
//! | `rule.message` | `title` |
//! | `rule.severity` (else the severity of the rule's name, see below) | `severity` |
//! | (always) CWE-798 | `cwes`, `kind` Secret |
//! | `path`, `line` (for Git history, trufflehog3 counts the line in the diff, not in the file) | `location` |
//! | `secret` | `secret` ([`MaskedSecret`]) |
//! | `context`, as `<line>: <text>` lines with the secret masked | `evidence` |
//! | `id` | `tool_fingerprint` |
//! | `branch`, `commit`, `message`, `author`, `date` | `attributes` |
//!
//! Issues before 3.0 give one finding per distinct string of
//! `stringsFound`, as for truffleHog 2: the rule id slugified from `reason`,
//! the title `Hard Coded <reason>` (`High Entropy String` for the entropy
//! check), and a severity from the reason, because these reports rate
//! nothing: high entropy strings are Low (most are hashes, commit ids and
//! digests), `Generic Secret` is Medium, other named credentials High.
//! (DefectDojo rates `High entropy` High and `High Entropy` Info, by the
//! case of the word.)
//!
//! The clear secret never leaves the parser: every occurrence of `secret`
//! and of each string found is masked in the title, evidence, description
//! and attributes.
//!
//! # Scope target
//!
//! trufflehog3 does not name the repository, so every finding belongs to
//! [`ParseContext::default_target`], a [`AssetKind::Repository`] asset.
//!
//! # Fingerprint
//!
//! Tool, rule id, repository asset, file path and the tool fingerprint:
//! for 3.x issues their `id`, a UUID 3 that trufflehog3 derives from the
//! rule, the file path and the secret, so the same secret found again in a
//! later commit or on another line keeps it. Without `id`, and for issues before 3.0, the parser
//! derives `commit:path:rule:line:digest` (no line before 3.0), where the
//! digest is the first 16 hex digits of the secret's SHA-256.
//!
//! # Not read yet
//!
//! trufflehog3's HTML and text reports.
//!
//! # Reference
//!
//! <https://github.com/feeltheajf/trufflehog3>

use std::collections::BTreeMap;
use std::io::BufRead;

use ctem_model::{AssetKey, Finding, FindingKind, Severity};
use serde::Deserialize;
use serde::de::DeserializeSeed;

use super::json_stream::{self, EachElement, Loose};
use super::repository_scope::RepositoryScopes;
use super::secrets_shared::{self, HARD_CODED_CREDENTIALS, LegacyLeak, LegacyTool, Masker};
use crate::util;
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink};

const FORMAT_ID: &str = "trufflehog3-json";
const TOOL: &str = "trufflehog3";

const LEGACY_TOOL: LegacyTool = LegacyTool {
    name: TOOL,
    display_name: "trufflehog3",
};

/// The trufflehog3 JSON report parser.
pub struct Trufflehog3Json;

impl Parser for Trufflehog3Json {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "trufflehog3 JSON",
            tool: "trufflehog3",
            versions: "2.x (truffleHog 2 records) and 3.x",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if !head.starts_with(b"[") {
            return Detection::No;
        }
        let has = |marker: &[u8]| util::contains(head, marker);
        let current = has(b"\"rule\"") && has(b"\"secret\"") && has(b"\"context\"");
        let legacy = has(b"\"stringsFound\"") && has(b"\"reason\"") && has(b"\"path\"");
        if current || legacy {
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
            let issues = EachElement::new(
                "a trufflehog3 report: an array of issues",
                "a trufflehog3 issue object",
                |issue: Issue| {
                    let target = context.default_target;
                    let asset = scopes.declare(sink, TOOL, target);
                    for finding in issue_findings(issue, &asset, target)? {
                        sink.finding(finding);
                    }
                    Ok(())
                },
            );
            issues.deserialize(deserializer)
        })?;
        scopes.finish(sink, TOOL, context.default_target);
        Ok(())
    }
}

/// One issue, in either shape.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Issue {
    // 3.x.
    rule: Option<Rule>,
    #[serde(deserialize_with = "util::loose_text")]
    line: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    secret: Option<String>,
    context: Option<BTreeMap<String, Loose>>,
    #[serde(deserialize_with = "util::loose_text")]
    id: Option<String>,
    /// The commit message.
    #[serde(deserialize_with = "util::loose_text")]
    message: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    author: Option<String>,

    // Both shapes; `commit` is the hash in 3.x and the message before.
    #[serde(deserialize_with = "util::loose_text")]
    path: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    branch: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    commit: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    date: Option<String>,

    // Before 3.0.
    #[serde(rename = "commitHash", deserialize_with = "util::loose_text")]
    commit_hash: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    reason: Option<String>,
    #[serde(rename = "stringsFound", deserialize_with = "json_stream::text_list")]
    strings_found: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Rule {
    #[serde(deserialize_with = "util::loose_text")]
    id: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    message: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    severity: Option<String>,
}

/// Returns the findings of one issue. An issue of neither shape is an
/// error, because trufflehog3 writes nothing else.
fn issue_findings(mut issue: Issue, asset: &AssetKey, target: &str) -> Result<Vec<Finding>, String> {
    if let Some(rule) = issue.rule.take() {
        return Ok(vec![current_finding(issue, rule, asset, target)]);
    }
    if issue.reason.is_some() || !issue.strings_found.is_empty() {
        let leak = LegacyLeak {
            branch: issue.branch,
            commit_message: issue.commit,
            commit_hash: issue.commit_hash,
            date: issue.date,
            path: issue.path,
            reason: issue.reason,
            strings_found: issue.strings_found,
        };
        return Ok(secrets_shared::legacy_findings(leak, LEGACY_TOOL, asset, target));
    }
    Err("an issue without rule or reason is no trufflehog3 issue; is this another tool's report?".to_string())
}

/// Returns the context lines of an issue as (line number, text), in the
/// order of the numbers: they are object keys, which sort as text.
fn ordered_context(context: Option<BTreeMap<String, Loose>>) -> Vec<(String, String)> {
    let mut lines: Vec<(String, String)> = context
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(number, text)| text.0.map(|text| (number, text)))
        .collect();
    lines.sort_by_key(|(number, _)| number.trim().parse::<u64>().unwrap_or(u64::MAX));
    lines
}

/// Builds the finding of a 3.x issue.
fn current_finding(issue: Issue, rule: Rule, asset: &AssetKey, target: &str) -> Finding {
    let mut masker = Masker::default();
    let secret = util::non_empty(issue.secret.as_deref()).map(|clear| masker.add_secret(&clear));

    let name = util::non_empty(rule.message.as_deref());
    let rule_id = util::non_empty(rule.id.as_deref())
        .or_else(|| name.as_deref().map(secrets_shared::slug))
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| "unknown-rule".to_string());
    let title = masker.mask(name.as_deref().unwrap_or(&rule_id));
    let severity = rule
        .severity
        .as_deref()
        .and_then(|word| word.parse::<Severity>().ok())
        .unwrap_or_else(|| secrets_shared::severity_of_reason(&title));

    let mut finding = Finding::new(
        TOOL,
        rule_id.clone(),
        FindingKind::Secret,
        title.clone(),
        severity,
        asset.clone(),
    );
    finding.add_cwe(HARD_CODED_CREDENTIALS);
    let path = util::non_empty(issue.path.as_deref()).map(|p| masker.mask(&p));
    let line = issue
        .line
        .as_deref()
        .and_then(|l| l.trim().parse::<u32>().ok())
        .filter(|&l| l > 0);
    finding.location.path = path.clone();
    finding.location.start_line = line;

    let context: Vec<String> = ordered_context(issue.context)
        .iter()
        .map(|(number, text)| format!("{number}: {}", masker.mask(text)))
        .collect();
    finding.evidence = (!context.is_empty()).then(|| secrets_shared::clean_evidence(&context.join("\n")));

    let commit = util::non_empty(issue.commit.as_deref());
    finding.tool_fingerprint = util::non_empty(issue.id.as_deref()).or_else(|| {
        let digest = secret.as_ref().map(|s| format!("sha256-{}", &s.sha256[..16]));
        let parts = [
            commit.clone(),
            path.clone(),
            Some(rule_id.clone()),
            line.map(|l| l.to_string()),
            digest,
        ];
        Some(parts.into_iter().flatten().collect::<Vec<_>>().join(":"))
    });
    finding.secret = secret;

    let branch = util::non_empty(issue.branch.as_deref());
    let mut description = format!("trufflehog3 found a secret ({title})");
    if let Some(path) = &path {
        description.push_str(&format!(" in {path}"));
        if let Some(line) = line {
            description.push_str(&format!(" at line {line}"));
        }
    }
    if let Some(commit) = &commit {
        description.push_str(&format!(", commit {commit}"));
    }
    if let Some(branch) = &branch {
        description.push_str(&format!(" on branch {branch}"));
    }
    description.push_str(". Rotate the credential and remove it from the history.");
    finding.description = Some(masker.mask(&description));

    let attributes = [
        ("commit", commit),
        ("branch", branch),
        ("commit_message", util::non_empty(issue.message.as_deref())),
        ("author", util::non_empty(issue.author.as_deref())),
        ("date", util::non_empty(issue.date.as_deref())),
    ];
    for (name, value) in attributes {
        if let Some(value) = value {
            finding.attributes.insert(name.to_string(), masker.mask(&value));
        }
    }
    finding.target = Some(target.to_string());
    finding
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_orders_lines_as_numbers() {
        let context = BTreeMap::from([
            ("10".to_string(), Loose(Some("ten".to_string()))),
            ("9".to_string(), Loose(Some("nine".to_string()))),
            ("x".to_string(), Loose(None)),
        ]);
        assert_eq!(
            ordered_context(Some(context)),
            [
                ("9".to_string(), "nine".to_string()),
                ("10".to_string(), "ten".to_string())
            ]
        );
    }
}
