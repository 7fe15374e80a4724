//! Code that the secret scanner parsers share: masking every occurrence of
//! the clear values, bounding evidence, and the findings of the record
//! shape that truffleHog 2 and trufflehog3 before 3.0 both write.

use std::collections::BTreeMap;

use ctem_model::{AssetKey, Cwe, Finding, FindingKind, MaskedSecret, Severity};

use crate::util;

/// The largest evidence kept per finding, in bytes. Secret scanners copy
/// whole lines, and minified files have lines of megabytes.
pub(crate) const MAX_EVIDENCE_BYTES: usize = 4096;

/// CWE-798, Use of Hard-coded Credentials: the weakness of every secret
/// that a scanner finds in a repository.
pub(crate) const HARD_CODED_CREDENTIALS: Cwe = Cwe(798);

/// The clear secrets of one record and their masked forms. Every text that
/// leaves the parser goes through [`Masker::mask`].
#[derive(Debug, Default)]
pub(crate) struct Masker {
    /// (clear, masked), longest clear value first, so that a secret that
    /// contains another one is masked whole.
    secrets: Vec<(String, String)>,
}

impl Masker {
    /// Adds a clear value to mask with `masked`. Empty values are ignored.
    pub(crate) fn add(&mut self, clear: &str, masked: &str) {
        if clear.is_empty() || self.secrets.iter().any(|(known, _)| known == clear) {
            return;
        }
        self.secrets.push((clear.to_string(), masked.to_string()));
        self.secrets.sort_by_key(|(clear, _)| std::cmp::Reverse(clear.len()));
    }

    /// Adds a clear value masked as [`MaskedSecret`] masks it, and returns
    /// that masked secret.
    pub(crate) fn add_secret(&mut self, clear: &str) -> MaskedSecret {
        let secret = MaskedSecret::new(clear);
        self.add(clear, &secret.masked);
        secret
    }

    /// Returns whether `text` is a piece of a clear value, such as the
    /// start of a private key.
    pub(crate) fn is_part_of_secret(&self, text: &str) -> bool {
        !text.is_empty() && self.secrets.iter().any(|(clear, _)| clear.contains(text))
    }

    /// Returns `text` with every clear value replaced by its masked form.
    pub(crate) fn mask(&self, text: &str) -> String {
        let mut masked = text.to_string();
        for (clear, replacement) in &self.secrets {
            if masked.contains(clear.as_str()) {
                masked = masked.replace(clear.as_str(), replacement);
            }
        }
        masked
    }
}

/// Returns report text fit for evidence: NUL characters (which binary files
/// put into context lines, and which databases reject in text) replaced by
/// U+FFFD, and at most [`MAX_EVIDENCE_BYTES`]. Mask before calling this, so
/// that a cut never leaves part of a clear secret behind a masked one.
pub(crate) fn clean_evidence(text: &str) -> String {
    let text = text.replace('\0', "\u{fffd}");
    util::truncate_text(&text, MAX_EVIDENCE_BYTES)
}

/// Decodes standard base64 with padding (RFC 4648, section 4), as Go's
/// `encoding/json` writes a `[]byte`. Returns `None` for any other text.
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn value(byte: u8) -> Option<u32> {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        Some(u32::from(value))
    }

    let bytes = text.as_bytes();
    if bytes.is_empty() || !bytes.len().is_multiple_of(4) {
        return None;
    }
    let padding = bytes.iter().rev().take_while(|&&b| b == b'=').count();
    if padding > 2 {
        return None;
    }

    // Six bits per character, a byte out whenever eight have gathered. An
    // `=` before the end fails `value`, so it is not base64.
    let body = &bytes[..bytes.len() - padding];
    let mut decoded = Vec::with_capacity(body.len() / 4 * 3 + 2);
    let mut buffer = 0u32;
    let mut bits = 0;
    for &byte in body {
        buffer = (buffer << 6) | value(byte)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            decoded.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(decoded)
}

/// Returns text as a slug: lowercase words joined by single hyphens
/// (`RSA private key` -> `rsa-private-key`), so that the rule names of
/// older reports read like rule ids.
pub(crate) fn slug(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for character in text.chars() {
        if character.is_alphanumeric() {
            slug.extend(character.to_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}

/// Returns the severity of a secret from the name of the regular expression
/// or check that found it, for reports that rate nothing themselves.
///
/// - High entropy strings are Low: most are hashes, commit ids and
///   digests, and a person must look at each.
/// - A generic secret (`secret = '...'`) is Medium: the pattern matches
///   test values and placeholders as often as real credentials.
/// - A named credential (a private key, a provider's token) is High: it
///   gives direct access to what it unlocks, with no exploit to write.
pub(crate) fn severity_of_reason(reason: &str) -> Severity {
    let reason = reason.to_ascii_lowercase();
    if reason.contains("entropy") {
        Severity::Low
    } else if reason == "generic secret" {
        Severity::Medium
    } else {
        Severity::High
    }
}

/// One record of the shape that truffleHog 2 (`--json`) and trufflehog3
/// before 3.0 write: the secrets that one regular expression or the entropy
/// check found in one file of one commit.
#[derive(Debug, Default)]
pub(crate) struct LegacyLeak {
    pub(crate) branch: Option<String>,
    /// The commit message (the report's `commit`).
    pub(crate) commit_message: Option<String>,
    pub(crate) commit_hash: Option<String>,
    pub(crate) date: Option<String>,
    pub(crate) path: Option<String>,
    pub(crate) reason: Option<String>,
    /// The matched strings: the secrets themselves, or for the entropy
    /// check of trufflehog3 the whole diff line that contains one.
    pub(crate) strings_found: Vec<String>,
}

/// The tool that wrote a [`LegacyLeak`]: its lowercase name for findings,
/// and its name for people.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LegacyTool {
    pub(crate) name: &'static str,
    pub(crate) display_name: &'static str,
}

/// Builds one finding per distinct string found of a legacy record (one
/// finding without a secret when the record found none), on `asset`.
///
/// The fingerprint of each is the tool fingerprint `commit:path:rule:digest`,
/// with the first 16 hex digits of the secret's SHA-256 as digest. The
/// digest stands in for the line number that the format lacks, so two
/// secrets of one rule in one file stay apart, and the same secret in the
/// same commit and file is one finding.
pub(crate) fn legacy_findings(leak: LegacyLeak, tool: LegacyTool, asset: &AssetKey, target: &str) -> Vec<Finding> {
    let reason = util::non_empty(leak.reason.as_deref());
    let rule_id = reason
        .as_deref()
        .map(slug)
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| "unknown-rule".to_string());
    let title = match reason.as_deref() {
        Some(reason) if reason.to_ascii_lowercase().contains("entropy") => "High Entropy String".to_string(),
        Some(reason) => format!("Hard Coded {reason}"),
        None => format!("Hard Coded {rule_id}"),
    };
    let severity = reason.as_deref().map_or(Severity::High, severity_of_reason);

    let mut strings: Vec<String> = Vec::new();
    for found in &leak.strings_found {
        if !found.is_empty() && !strings.contains(found) {
            strings.push(found.clone());
        }
    }
    let mut masker = Masker::default();
    let secrets: Vec<MaskedSecret> = strings.iter().map(|clear| masker.add_secret(clear)).collect();

    let path = util::non_empty(leak.path.as_deref());
    let commit = util::non_empty(leak.commit_hash.as_deref());
    let description = masker.mask(&describe_legacy(
        tool,
        &title,
        path.as_deref(),
        commit.as_deref(),
        leak.branch.as_deref(),
    ));
    let mut attributes = BTreeMap::new();
    let optional = [
        ("commit", commit.clone()),
        ("branch", util::non_empty(leak.branch.as_deref())),
        ("date", util::non_empty(leak.date.as_deref())),
        ("commit_message", util::non_empty(leak.commit_message.as_deref())),
        ("reason", reason.clone()),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            attributes.insert(name.to_string(), masker.mask(&value));
        }
    }

    let build = |secret: Option<MaskedSecret>| {
        let mut finding = Finding::new(
            tool.name,
            rule_id.clone(),
            FindingKind::Secret,
            masker.mask(&title),
            severity,
            asset.clone(),
        );
        finding.add_cwe(HARD_CODED_CREDENTIALS);
        finding.location.path = path.as_deref().map(|p| masker.mask(p));
        let digest = secret.as_ref().map(|s| format!("sha256-{}", &s.sha256[..16]));
        let parts = [
            commit.clone(),
            finding.location.path.clone(),
            Some(rule_id.clone()),
            digest,
        ];
        finding.tool_fingerprint = Some(parts.into_iter().flatten().collect::<Vec<_>>().join(":"));
        finding.secret = secret;
        finding.description = Some(description.clone());
        finding.attributes = attributes.clone();
        finding.target = Some(target.to_string());
        finding
    };

    if secrets.is_empty() {
        vec![build(None)]
    } else {
        secrets.into_iter().map(|secret| build(Some(secret))).collect()
    }
}

/// Builds a one-paragraph description from a legacy record's facts,
/// because the format has no prose of its own.
fn describe_legacy(
    tool: LegacyTool,
    title: &str,
    path: Option<&str>,
    commit: Option<&str>,
    branch: Option<&str>,
) -> String {
    let mut text = format!("{} found a secret ({title})", tool.display_name);
    if let Some(path) = path {
        text.push_str(&format!(" in {path}"));
    }
    if let Some(commit) = commit {
        text.push_str(&format!(", commit {commit}"));
    }
    if let Some(branch) = util::non_empty(branch) {
        text.push_str(&format!(" on branch {branch}"));
    }
    text.push_str(". Rotate the credential and remove it from the history.");
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctem_model::AssetKind;

    #[test]
    fn masker_masks_longest_first() {
        let mut masker = Masker::default();
        masker.add("AKIAEXAMPLE", "AKIA*");
        masker.add("AKIAEXAMPLE:wJalrEXAMPLEKEY", "whole*");
        assert_eq!(
            masker.mask("id AKIAEXAMPLE pair AKIAEXAMPLE:wJalrEXAMPLEKEY"),
            "id AKIA* pair whole*"
        );
        assert_eq!(masker.mask("nothing here"), "nothing here");
    }

    #[test]
    fn masker_ignores_empty_values() {
        let mut masker = Masker::default();
        masker.add("", "x");
        assert_eq!(masker.mask("abc"), "abc");
    }

    #[test]
    fn evidence_is_cleaned() {
        assert_eq!(clean_evidence("a\0b"), "a\u{fffd}b");
        let long = "x".repeat(MAX_EVIDENCE_BYTES + 10);
        assert!(clean_evidence(&long).contains("[truncated: 4096 of 4106 bytes kept]"));
    }

    #[test]
    fn base64_decodes() {
        assert_eq!(
            decode_base64("QUtJQVlWUDRDSVBQRVJVVklGWEc=").as_deref(),
            Some(&b"AKIAYVP4CIPPERUVIFXG"[..])
        );
        assert_eq!(decode_base64("YWJj").as_deref(), Some(&b"abc"[..]));
        assert_eq!(decode_base64("YWI=").as_deref(), Some(&b"ab"[..]));
        assert_eq!(decode_base64("YQ==").as_deref(), Some(&b"a"[..]));
    }

    #[test]
    fn base64_rejects_other_text() {
        for text in ["", "abc", "ab=c", "a===", "YW=j", "hello world!", "YQ==YQ=="] {
            assert_eq!(decode_base64(text), None, "{text:?}");
        }
    }

    #[test]
    fn slug_joins_words() {
        assert_eq!(slug("SSH (EC) private key"), "ssh-ec-private-key");
        assert_eq!(slug("High entropy"), "high-entropy");
        assert_eq!(slug("--"), "");
    }

    #[test]
    fn reason_sets_severity() {
        assert_eq!(severity_of_reason("High Entropy"), Severity::Low);
        assert_eq!(severity_of_reason("High entropy"), Severity::Low);
        assert_eq!(severity_of_reason("Generic Secret"), Severity::Medium);
        assert_eq!(severity_of_reason("RSA private key"), Severity::High);
    }

    #[test]
    fn legacy_record_gives_finding_per_string() {
        let leak = LegacyLeak {
            commit_hash: Some("abc123".into()),
            path: Some("config.py".into()),
            reason: Some("Generic Secret".into()),
            commit_message: Some("add sk_demo_EXAMPLE0000000001".into()),
            strings_found: vec![
                "sk_demo_EXAMPLE0000000001".into(),
                "sk_demo_EXAMPLE0000000002".into(),
                "sk_demo_EXAMPLE0000000001".into(),
            ],
            ..LegacyLeak::default()
        };
        let tool = LegacyTool {
            name: "trufflehog",
            display_name: "TruffleHog",
        };
        let asset = AssetKey::new(AssetKind::Repository, "repo");
        let findings = legacy_findings(leak, tool, &asset, "repo");
        assert_eq!(findings.len(), 2);
        assert_eq!(findings[0].rule_id, "generic-secret");
        assert_eq!(findings[0].severity, Severity::Medium);
        assert_ne!(findings[0].fingerprint(), findings[1].fingerprint());
        let text = serde_json::to_string(&findings).unwrap();
        assert!(!text.contains("EXAMPLE000"), "{text}");
    }
}
