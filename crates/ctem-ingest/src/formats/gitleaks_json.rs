//! Gitleaks JSON reports: secrets committed to a Git repository or left in
//! a source tree.
//!
//! # Reads
//!
//! The JSON report (`--report-format json`) of Gitleaks in its three
//! shapes:
//!
//! - legacy, before 7.0: an array of objects with `line`, `offender`,
//!   `commit`, `repo`, `rule`, `commitMessage`, `author`, `email`, `file`,
//!   `date` and `tags` (a comma-separated string);
//! - 7.x: the same keys plus `lineNumber`, `offenderEntropy`, `repoURL` and
//!   `leakURL`;
//! - 8.x: `Description`, `StartLine`, `EndLine`, `StartColumn`, `EndColumn`,
//!   `Match`, `Secret`, `File`, `SymlinkFile`, `Commit`, `Link`, `Entropy`,
//!   `Author`, `Email`, `Date`, `Message`, `Tags` (an array), `RuleID` and
//!   `Fingerprint`.
//!
//! A literal `null` (what Gitleaks 7 writes for a clean scan) or `[]` is an
//! empty report. Reports written with `--redact` keep `REDACTED` in place
//! of the secret and still give a finding each.
//!
//! # Field mapping
//!
//! | report | finding |
//! | --- | --- |
//! | `RuleID`, or legacy `rule` slugified (`AWS Access Key` -> `aws-access-key`) | `rule_id` |
//! | `Description`, else `Hard Coded <rule>` as DefectDojo titles it | `title` |
//! | (always) | `kind` Secret, `severity` High |
//! | `File` / `file`, `StartLine` / `lineNumber`, `EndLine`, `StartColumn` | `location` |
//! | `Secret` / `offender` | `secret` ([`MaskedSecret`]) |
//! | `Match` / `line`, with every occurrence of the secret masked | `evidence` |
//! | `Fingerprint`, else derived (see below) | `tool_fingerprint` |
//! | `Link` / `leakURL` | `references` |
//! | `Commit`, `Author`, `Email`, `Date`, `Message`, `Tags`, `Entropy`, `SymlinkFile` | `attributes` |
//!
//! Every finding is High: a secret in a repository is a live credential
//! until proven otherwise, and a credential gives direct access to the
//! system it unlocks, with no exploit to write. Gitleaks itself reports no
//! severity.
//!
//! The clear secret never leaves the parser: it is replaced by its masked
//! form in the evidence, the description, the title and every attribute.
//!
//! # Scope target
//!
//! `repoURL` when the report gives one, else `repo` unless it is empty or
//! `.` (the folder Gitleaks ran in, which names nothing), else
//! [`ParseContext::default_target`]. The asset is a [`AssetKind::Repository`]
//! with that identifier (and a `repo_url` identifier when it is an URL).
//!
//! # Fingerprint
//!
//! Tool, rule id, repository asset, file path and the tool fingerprint.
//! Gitleaks 8 writes `Fingerprint` as `commit:file:rule:line`, or
//! `file:rule:line` outside Git. For older reports the parser derives the
//! same form from `commit`, `file`, the rule id and `lineNumber`. Legacy
//! reports before 7.0 have no line number, so the first 16 hex digits of
//! the secret's SHA-256 stand in for it, which keeps two secrets of one rule
//! in one file apart.
//!
//! # Not read yet
//!
//! Gitleaks' SARIF and CSV outputs (SARIF is read by the `sarif` parser);
//! the 8.x `Line` field (the whole source line) is not copied, because
//! `Match` already holds the matched text.
//!
//! # Reference
//!
//! <https://github.com/gitleaks/gitleaks#reporting> and the `Finding`
//! struct in `report/finding.go` of Gitleaks 8.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::BufRead;

use ctem_model::{Asset, AssetKey, AssetKind, Finding, FindingKind, MaskedSecret, Severity};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use crate::util;
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink};

const FORMAT_ID: &str = "gitleaks-json";
const TOOL: &str = "gitleaks";

/// The value Gitleaks writes in place of a secret with `--redact`.
const REDACTED: &str = "REDACTED";

/// The Gitleaks JSON report parser.
pub struct GitleaksJson;

impl Parser for GitleaksJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Gitleaks JSON",
            tool: "Gitleaks",
            versions: "legacy (before 7), 7.x, 8.x",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if head.starts_with(b"null") && util::trim_start(&head[4..]).is_empty() {
            return Detection::Maybe;
        }
        if !head.starts_with(b"[") {
            return Detection::No;
        }
        let first_object = first_object(head);
        let is_v8 = util::contains(first_object, b"\"RuleID\"") && util::contains(first_object, b"\"Secret\"");
        let is_legacy = util::contains(first_object, b"\"rule\"") && util::contains(first_object, b"\"offender\"");
        if is_v8 || is_legacy {
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
        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        let mut state = ReportState {
            context,
            sink,
            assets: BTreeSet::new(),
            findings: 0,
        };
        deserializer
            .deserialize_any(RootVisitor { state: &mut state })
            .and_then(|()| deserializer.end())
            .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))?;

        // A report with no finding still covers the scope it was run on.
        if state.findings == 0 {
            state.sink.target(TOOL, context.default_target);
        }
        Ok(())
    }
}

/// Returns the bytes of the first object of a JSON array (up to the first
/// `}`), so that detection does not match keys of a later object.
fn first_object(head: &[u8]) -> &[u8] {
    match head.iter().position(|&b| b == b'}') {
        Some(end) => &head[..end],
        None => head,
    }
}

/// State of one report's parse: the sink and the assets already sent.
struct ReportState<'a, 'c> {
    context: &'a ParseContext<'c>,
    sink: &'a mut dyn Sink,
    /// Keys of the repository assets already sent.
    assets: BTreeSet<AssetKey>,
    findings: usize,
}

/// Accepts the root value: `null`, or an array of leaks read one at a time.
struct RootVisitor<'s, 'a, 'c> {
    state: &'s mut ReportState<'a, 'c>,
}

impl<'de> Visitor<'de> for RootVisitor<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a Gitleaks report: a JSON array of findings, or null")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(leak) = seq.next_element::<Leak>()? {
            self.state.emit(leak);
        }
        Ok(())
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // The first key is enough to say what the file is.
        let key: Option<String> = map.next_key()?;
        let found = key.map_or_else(
            || "an empty object".to_string(),
            |k| format!("an object with key {k:?}"),
        );
        Err(de::Error::custom(format!(
            "expected a Gitleaks report (a JSON array of findings, or null), found {found}; \
             is this another tool's report?"
        )))
    }
}

/// One leak in any of the three report shapes. Keys of the 8.x shape are
/// capitalized, keys of the older shapes are not, so one struct reads both.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Leak {
    // Gitleaks 8.x.
    #[serde(rename = "Description")]
    description: Option<String>,
    #[serde(rename = "StartLine")]
    start_line: Option<i64>,
    #[serde(rename = "EndLine")]
    end_line: Option<i64>,
    #[serde(rename = "StartColumn")]
    start_column: Option<i64>,
    #[serde(rename = "Match")]
    matched: Option<String>,
    #[serde(rename = "Secret")]
    secret: Option<String>,
    #[serde(rename = "File")]
    file: Option<String>,
    #[serde(rename = "SymlinkFile")]
    symlink_file: Option<String>,
    #[serde(rename = "Commit")]
    commit: Option<String>,
    #[serde(rename = "Link")]
    link: Option<String>,
    #[serde(rename = "Entropy")]
    entropy: Option<f64>,
    #[serde(rename = "Author")]
    author: Option<String>,
    #[serde(rename = "Email")]
    email: Option<String>,
    #[serde(rename = "Date")]
    date: Option<String>,
    #[serde(rename = "Message")]
    message: Option<String>,
    #[serde(rename = "Tags")]
    tags: Option<Tags>,
    #[serde(rename = "RuleID")]
    rule_id: Option<String>,
    #[serde(rename = "Fingerprint")]
    fingerprint: Option<String>,

    // Legacy and 7.x.
    line: Option<String>,
    #[serde(rename = "lineNumber")]
    line_number: Option<i64>,
    offender: Option<String>,
    #[serde(rename = "offenderEntropy")]
    offender_entropy: Option<f64>,
    #[serde(rename = "commit")]
    legacy_commit: Option<String>,
    repo: Option<String>,
    #[serde(rename = "repoURL")]
    repo_url: Option<String>,
    #[serde(rename = "leakURL")]
    leak_url: Option<String>,
    rule: Option<String>,
    #[serde(rename = "commitMessage")]
    commit_message: Option<String>,
    #[serde(rename = "author")]
    legacy_author: Option<String>,
    #[serde(rename = "email")]
    legacy_email: Option<String>,
    #[serde(rename = "file")]
    legacy_file: Option<String>,
    #[serde(rename = "date")]
    legacy_date: Option<String>,
    #[serde(rename = "tags")]
    legacy_tags: Option<Tags>,
}

/// Tags as Gitleaks 8 writes them (an array) or as older versions do (one
/// comma-separated string).
#[derive(Debug, Default)]
struct Tags(Vec<String>);

impl<'de> Deserialize<'de> for Tags {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Tags, D::Error> {
        struct TagsVisitor;

        impl<'de> Visitor<'de> for TagsVisitor {
            type Value = Tags;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("tags as a string or an array of strings")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Tags, E> {
                Ok(Tags(split_tags(text)))
            }

            fn visit_unit<E: de::Error>(self) -> Result<Tags, E> {
                Ok(Tags::default())
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tags, A::Error> {
                let mut tags = Vec::new();
                while let Some(tag) = seq.next_element::<Option<String>>()? {
                    tags.extend(
                        tag.as_deref()
                            .map(str::trim)
                            .filter(|t| !t.is_empty())
                            .map(str::to_string),
                    );
                }
                Ok(Tags(tags))
            }
        }

        deserializer.deserialize_any(TagsVisitor)
    }
}

fn split_tags(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// Text with spaces and punctuation turned into single hyphens, in lower
/// case: the legacy rule names become ids like the 8.x `RuleID`s.
fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_alphanumeric() {
            slug.extend(c.to_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}

/// Returns a line or column number, or `None` for the 0 that Gitleaks
/// writes when the position is unknown.
fn position(value: Option<i64>) -> Option<u32> {
    value.and_then(|v| u32::try_from(v).ok()).filter(|&v| v > 0)
}

/// Replaces every occurrence of the clear secret with its masked form.
fn mask(text: &str, clear: Option<&str>, masked: &str) -> String {
    match clear {
        Some(clear) if !clear.is_empty() => text.replace(clear, masked),
        _ => text.to_string(),
    }
}

impl ReportState<'_, '_> {
    /// Turns one leak into a finding and sends it, with its repository
    /// asset and scope target the first time they appear.
    fn emit(&mut self, leak: Leak) {
        let target = scope_target(&leak).unwrap_or_else(|| self.context.default_target.to_string());
        let asset_key = AssetKey::new(AssetKind::Repository, &target);
        if self.assets.insert(asset_key.clone()) {
            let mut asset = Asset::new(AssetKind::Repository, &target, target.clone());
            if target.contains("://") {
                asset.add_identifier("repo_url", target.clone());
            }
            self.sink.asset(asset);
            self.sink.target(TOOL, &target);
        }

        let finding = build_finding(leak, asset_key, target);
        self.sink.finding(finding);
        self.findings += 1;
    }
}

/// Returns the repository that the report names for this leak, if any.
fn scope_target(leak: &Leak) -> Option<String> {
    let named = |text: &Option<String>| util::non_empty(text.as_deref()).filter(|t| t != ".");
    named(&leak.repo_url).or_else(|| named(&leak.repo))
}

fn build_finding(leak: Leak, asset: AssetKey, target: String) -> Finding {
    let rule_name = util::non_empty(leak.rule.as_deref());
    let rule_id = util::non_empty(leak.rule_id.as_deref())
        .or_else(|| rule_name.as_deref().map(slugify))
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| "unknown-rule".to_string());

    // The clear value: `Secret` in 8.x, `offender` before. A redacted
    // report has no clear value to protect and no digest worth keeping: the
    // digest of "REDACTED" would match every other redacted secret.
    let clear = util::non_empty(leak.secret.as_deref()).or_else(|| util::non_empty(leak.offender.as_deref()));
    let redacted = clear.as_deref().is_some_and(|c| c == REDACTED);
    let clear = clear.filter(|_| !redacted);
    let secret = clear.as_deref().map(MaskedSecret::new);
    let masked = secret.as_ref().map_or_else(String::new, |s| s.masked.clone());
    let hide = |text: &str| mask(text, clear.as_deref(), &masked);

    let title = util::non_empty(leak.description.as_deref())
        .or_else(|| rule_name.as_ref().map(|name| format!("Hard Coded {name}")))
        .unwrap_or_else(|| format!("Hard Coded {rule_id}"));
    let mut finding = Finding::new(
        TOOL,
        rule_id.clone(),
        FindingKind::Secret,
        hide(&title),
        Severity::High,
        asset,
    );

    let path = util::non_empty(leak.file.as_deref()).or_else(|| util::non_empty(leak.legacy_file.as_deref()));
    let line = position(leak.start_line).or_else(|| position(leak.line_number));
    finding.location.path = path.clone();
    finding.location.start_line = line;
    finding.location.end_line = position(leak.end_line);
    finding.location.start_column = position(leak.start_column);

    let commit = util::non_empty(leak.commit.as_deref()).or_else(|| util::non_empty(leak.legacy_commit.as_deref()));
    finding.tool_fingerprint = util::non_empty(leak.fingerprint.as_deref())
        .map(|f| hide(&f))
        .or_else(|| {
            let place = match (line, &secret) {
                (Some(line), _) => line.to_string(),
                (None, Some(secret)) => format!("sha256-{}", &secret.sha256[..16]),
                (None, None) => String::new(),
            };
            let parts = [commit.clone(), path.clone(), Some(rule_id.clone()), Some(place)];
            Some(parts.into_iter().flatten().collect::<Vec<_>>().join(":"))
        });

    let evidence = util::non_empty(leak.matched.as_deref()).or_else(|| util::non_empty(leak.line.as_deref()));
    finding.evidence = evidence.map(|e| hide(&e));
    finding.secret = secret;

    let author = util::non_empty(leak.author.as_deref()).or_else(|| util::non_empty(leak.legacy_author.as_deref()));
    let email = util::non_empty(leak.email.as_deref()).or_else(|| util::non_empty(leak.legacy_email.as_deref()));
    let date = util::non_empty(leak.date.as_deref())
        .or_else(|| util::non_empty(leak.legacy_date.as_deref()))
        // Gitleaks 7 writes Go's zero time when the scan ran outside Git.
        .filter(|d| !d.starts_with("0001-01-01"));
    let message = util::non_empty(leak.message.as_deref()).or_else(|| util::non_empty(leak.commit_message.as_deref()));
    let tags = leak.tags.or(leak.legacy_tags).map(|t| t.0).unwrap_or_default();
    let entropy = leak.entropy.or(leak.offender_entropy).filter(|e| *e > 0.0);

    finding.description = Some(hide(&describe(
        &title,
        path.as_deref(),
        line,
        commit.as_deref(),
        author.as_deref(),
        redacted,
    )));

    let mut attributes = BTreeMap::new();
    let optional = [
        ("commit", commit),
        ("author", author),
        ("email", email),
        ("date", date),
        ("commit_message", message),
        ("symlink_file", util::non_empty(leak.symlink_file.as_deref())),
        ("entropy", entropy.map(|e| format!("{e:.2}"))),
        ("tags", (!tags.is_empty()).then(|| tags.join(", "))),
        ("redacted", redacted.then(|| "true".to_string())),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            attributes.insert(name.to_string(), hide(&value));
        }
    }
    finding.attributes = attributes;

    for reference in [leak.link, leak.leak_url].into_iter().flatten() {
        if let Some(reference) = util::non_empty(Some(&reference)) {
            finding.references.push(hide(&reference));
        }
    }
    finding.target = Some(target);
    finding
}

/// Builds a one-paragraph description from the report's facts, because the
/// report has no prose of its own.
fn describe(
    title: &str,
    path: Option<&str>,
    line: Option<u32>,
    commit: Option<&str>,
    author: Option<&str>,
    redacted: bool,
) -> String {
    let mut text = format!("Gitleaks found a secret ({title})");
    if let Some(path) = path {
        text.push_str(&format!(" in {path}"));
        if let Some(line) = line {
            text.push_str(&format!(" at line {line}"));
        }
    }
    if let Some(commit) = commit {
        text.push_str(&format!(", commit {commit}"));
        if let Some(author) = author {
            text.push_str(&format!(" by {author}"));
        }
    }
    text.push('.');
    if redacted {
        text.push_str(" The report was written with --redact, so the secret itself is not known.");
    }
    text.push_str(" Rotate the credential and remove it from the history.");
    text
}
