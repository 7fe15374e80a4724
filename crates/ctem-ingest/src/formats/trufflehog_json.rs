//! TruffleHog JSON reports: secrets found in Git history, file systems,
//! container images and other sources.
//!
//! # Reads
//!
//! The `--json` output of two generations of the tool, one JSON object per
//! line (objects spread over several lines, and a JSON array of them, are
//! read as well):
//!
//! - truffleHog 2.x (Python): `branch`, `commit` (the message),
//!   `commitHash`, `date`, `path`, `reason`, `stringsFound`, `diff` and
//!   `printDiff`;
//! - TruffleHog 3.x (Go): `SourceMetadata.Data.<source>` (`Git`, `Github`,
//!   `Gitlab`, `Filesystem`, `Docker`, ... with `commit`, `file`, `line`,
//!   `email`, `repository`, `timestamp`, `link`, `image`), `SourceName`,
//!   `DetectorType`, `DetectorName`, `DetectorDescription`,
//!   `DecoderName`, `Verified`, `VerificationError`, `Raw`, `RawV2`,
//!   `Redacted` and `ExtraData`. Releases of 2022, before `DecoderName`
//!   existed, wrote `Raw` and `RawV2` as base64 (Go's encoding of a byte
//!   slice); without `DecoderName`, a `Raw` that is valid base64 of UTF-8
//!   text is decoded.
//!
//! # Field mapping
//!
//! Version 3:
//!
//! | report | finding |
//! | --- | --- |
//! | `DetectorName` (else `DetectorType`) | `rule_id` |
//! | `Hard Coded <DetectorName> secret` | `title` |
//! | `Verified`: true Critical, else High | `severity` |
//! | (always) CWE-798 | `cwes`, `kind` Secret |
//! | `file`, `line` | `location` |
//! | `Raw` (else `RawV2`) | `secret` ([`MaskedSecret`]) |
//! | `Redacted`, masked | `evidence` |
//! | `link` | `references` |
//! | `commit`, `email`, `timestamp`, `repository`, source kind, `SourceName`, `DecoderName`, `DetectorType`, `Verified`, `VerificationError`, `visibility`, each `ExtraData` entry as `extra.<key>` | `attributes` |
//!
//! A verified secret is Critical: TruffleHog logged in with it, so it is a
//! live credential. An unverified one is High, as a secret in a repository
//! is live until proven otherwise. (DefectDojo rates unverified secrets
//! by detector name, Critical for AWS, OAuth and Heroku.)
//!
//! Version 2: one finding per distinct string of `stringsFound` (each is
//! a secret), with the rule id slugified from `reason` (`RSA private key`
//! -> `rsa-private-key`), the title `Hard Coded <reason>` (`High Entropy
//! String` for the entropy check), the severity of the reason (Low for
//! high entropy strings, Medium for `Generic Secret`, else High) and the
//! path of the file.
//!
//! The clear secret never leaves the parser: every occurrence of `Raw`,
//! `RawV2` (decoded and as written) and of each string found is masked in
//! every text kept. A `Redacted` that is part of the secret (TruffleHog
//! writes the first 64 characters of a private key there) is masked as
//! well. `diff` and `printDiff` are never read, because they show whole
//! lines around the secret.
//!
//! # Scope target
//!
//! The `repository` of the source (Git, GitHub, GitLab and other Git
//! sources) as a [`AssetKind::Repository`] asset, with a `repo_url`
//! identifier, or the `image` of a Docker source as a
//! [`AssetKind::ContainerImage`] asset. Other sources, and version 2,
//! name no repository: their findings belong to
//! [`ParseContext::default_target`], a repository asset.
//!
//! # Fingerprint
//!
//! Tool, rule id, asset, file path and the tool fingerprint
//! `commit:file:rule:line:digest` that the parser derives (TruffleHog gives
//! none), where the digest is the first 16 hex digits of the secret's
//! SHA-256. So two secrets on one line stay apart, and the same secret in
//! the same commit and place is one finding. Version 2 has no line, so its
//! form is `commit:file:rule:digest`.
//!
//! # Not read yet
//!
//! `StructuredData`, `SourceID`, `SourceType`; the source metadata of S3,
//! GCS, Slack, Jira and other non-Git sources beyond `file`, `line` and
//! `link` (their findings belong to the default target).
//!
//! # Reference
//!
//! <https://github.com/trufflesecurity/trufflehog> (`pkg/output/json.go`)
//! and <https://github.com/dxa4481/truffleHog/tree/v2.2.1> (version 2).

use std::collections::BTreeMap;
use std::io::BufRead;

use ctem_model::{AssetKind, Finding, FindingKind, MaskedSecret, Severity};
use serde::Deserialize;
use serde::de::DeserializeSeed;

use super::json_stream::{self, EachElement, Loose};
use super::repository_scope::RepositoryScopes;
use super::secrets_shared::{self, HARD_CODED_CREDENTIALS, LegacyLeak, LegacyTool, Masker};
use crate::util;
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Position, Sink};

const FORMAT_ID: &str = "trufflehog-json";
const TOOL: &str = "trufflehog";

const LEGACY_TOOL: LegacyTool = LegacyTool {
    name: TOOL,
    display_name: "truffleHog",
};

/// The TruffleHog JSON report parser.
pub struct TrufflehogJson;

impl Parser for TrufflehogJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "TruffleHog JSON",
            tool: "TruffleHog",
            versions: "2.x and 3.x (--json)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        // trufflehog3 writes JSON arrays of version 2 records, so its
        // parser claims arrays.
        if !head.starts_with(b"{") {
            return Detection::No;
        }
        let first = first_line(head);
        let has = |marker: &[u8]| util::contains(first, marker);
        let version_3 = has(b"\"SourceMetadata\"") && has(b"\"DetectorName\"");
        let version_2 = has(b"\"stringsFound\"") && has(b"\"reason\"") && has(b"\"commitHash\"");
        if version_3 || version_2 {
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
        let io_error =
            |error: std::io::Error| ParseError::new(context.path, FORMAT_ID, None, format!("read failed: {error}"));
        let skipped = json_stream::skip_whitespace(reader).map_err(io_error)?;
        let first = reader.fill_buf().map_err(io_error)?.first().copied();

        let mut report = Report {
            context,
            sink,
            scopes: RepositoryScopes::default(),
        };
        match first {
            None => {}
            Some(b'[') => report.read_array(reader).map_err(|error| skipped.correct(error))?,
            Some(b'{') => report.read_lines(reader).map_err(|error| skipped.correct(error))?,
            Some(byte) => {
                let position = Position::LineColumn { line: 1, column: 1 };
                let error = ParseError::new(
                    context.path,
                    FORMAT_ID,
                    Some(position),
                    format!(
                        "expected TruffleHog JSON (one JSON object per line), found {:?}; \
                         is this another tool's report?",
                        char::from(byte)
                    ),
                );
                return Err(skipped.correct(error));
            }
        }
        report.scopes.finish(report.sink, TOOL, context.default_target);
        Ok(())
    }
}

/// Returns the first line of the head, the first record of JSON lines.
fn first_line(head: &[u8]) -> &[u8] {
    match head.iter().position(|&b| b == b'\n') {
        Some(end) => &head[..end],
        None => head,
    }
}

/// One record of either version.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Record {
    // Version 3.
    #[serde(rename = "SourceMetadata")]
    source_metadata: Option<SourceMetadata>,
    #[serde(rename = "SourceName", deserialize_with = "util::loose_text")]
    source_name: Option<String>,
    #[serde(rename = "DetectorType", deserialize_with = "util::loose_text")]
    detector_type: Option<String>,
    #[serde(rename = "DetectorName", deserialize_with = "util::loose_text")]
    detector_name: Option<String>,
    #[serde(rename = "DetectorDescription", deserialize_with = "util::loose_text")]
    detector_description: Option<String>,
    #[serde(rename = "DecoderName", deserialize_with = "util::loose_text")]
    decoder_name: Option<String>,
    #[serde(rename = "Verified", deserialize_with = "util::loose_text")]
    verified: Option<String>,
    #[serde(rename = "VerificationError", deserialize_with = "util::loose_text")]
    verification_error: Option<String>,
    #[serde(rename = "Raw", deserialize_with = "util::loose_text")]
    raw: Option<String>,
    #[serde(rename = "RawV2", deserialize_with = "util::loose_text")]
    raw_v2: Option<String>,
    #[serde(rename = "Redacted", deserialize_with = "util::loose_text")]
    redacted: Option<String>,
    #[serde(rename = "ExtraData")]
    extra_data: Option<BTreeMap<String, Loose>>,

    // Version 2.
    #[serde(deserialize_with = "util::loose_text")]
    branch: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    commit: Option<String>,
    #[serde(rename = "commitHash", deserialize_with = "util::loose_text")]
    commit_hash: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    date: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    path: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    reason: Option<String>,
    #[serde(rename = "stringsFound", deserialize_with = "json_stream::text_list")]
    strings_found: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SourceMetadata {
    /// The source kind (`Git`, `Github`, `Filesystem`...) and its facts.
    #[serde(rename = "Data")]
    data: Option<BTreeMap<String, SourceData>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SourceData {
    #[serde(deserialize_with = "util::loose_text")]
    commit: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    file: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    line: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    email: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    repository: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    timestamp: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    link: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    visibility: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    image: Option<String>,
}

/// State of one report's parse.
struct Report<'a, 'c> {
    context: &'a ParseContext<'c>,
    sink: &'a mut dyn Sink,
    scopes: RepositoryScopes,
}

impl Report<'_, '_> {
    /// Reads a JSON array of records.
    fn read_array(&mut self, reader: &mut dyn BufRead) -> Result<(), ParseError> {
        let path = self.context.path;
        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        let records = EachElement::new(
            "a TruffleHog report: JSON objects, one per line, or an array of them",
            "a TruffleHog result object",
            |record| self.emit(record),
        );
        records
            .deserialize(&mut deserializer)
            .and_then(|()| deserializer.end())
            .map_err(|error| ParseError::from_json(path, FORMAT_ID, &error))
    }

    /// Reads JSON objects one after the other (JSON lines).
    fn read_lines(&mut self, reader: &mut dyn BufRead) -> Result<(), ParseError> {
        let path = self.context.path;
        let mut records = serde_json::Deserializer::from_reader(reader).into_iter::<Record>();
        let mut count = 0u64;
        while let Some(record) = records.next() {
            let record = record.map_err(|error| ParseError::from_json(path, FORMAT_ID, &error))?;
            count += 1;
            self.emit(record).map_err(|message| {
                let offset = records.byte_offset() as u64;
                ParseError::new(
                    path,
                    FORMAT_ID,
                    Some(Position::Byte(offset)),
                    format!("record {count}: {message}"),
                )
            })?;
        }
        Ok(())
    }

    /// Sends the findings of one record. A record of neither version stops
    /// the parse.
    fn emit(&mut self, record: Record) -> Result<(), String> {
        if record.source_metadata.is_some() || record.detector_name.is_some() {
            self.emit_v3(record);
            Ok(())
        } else if record.reason.is_some() || !record.strings_found.is_empty() {
            self.emit_v2(record);
            Ok(())
        } else {
            Err(
                "neither a TruffleHog 3 result (no SourceMetadata or DetectorName) nor a truffleHog 2 result \
                 (no reason or stringsFound); is this another tool's report?"
                    .to_string(),
            )
        }
    }

    fn emit_v2(&mut self, record: Record) {
        let target = self.context.default_target;
        let asset = self.scopes.declare(self.sink, TOOL, target);
        let leak = LegacyLeak {
            branch: record.branch,
            commit_message: record.commit,
            commit_hash: record.commit_hash,
            date: record.date,
            path: record.path,
            reason: record.reason,
            strings_found: record.strings_found,
        };
        for finding in secrets_shared::legacy_findings(leak, LEGACY_TOOL, &asset, target) {
            self.sink.finding(finding);
        }
    }

    fn emit_v3(&mut self, record: Record) {
        let (source_kind, source) = record
            .source_metadata
            .and_then(|metadata| metadata.data)
            .and_then(|data| data.into_iter().next())
            .map_or((None, SourceData::default()), |(kind, data)| (Some(kind), data));

        let repository = util::non_empty(source.repository.as_deref());
        let image = util::non_empty(source.image.as_deref());
        let (kind, target) = match (&repository, &image) {
            (Some(repository), _) => (AssetKind::Repository, repository.clone()),
            (None, Some(image)) => (AssetKind::ContainerImage, image.clone()),
            (None, None) => (AssetKind::Repository, self.context.default_target.to_string()),
        };
        let asset = self.scopes.declare_asset(self.sink, TOOL, kind, &target);

        // Releases without DecoderName wrote the secret's bytes as base64.
        let bytes_as_base64 = record.decoder_name.is_none();
        let mut masker = Masker::default();
        let raw = add_clear_value(&mut masker, record.raw.as_deref(), bytes_as_base64);
        let raw_v2 = add_clear_value(&mut masker, record.raw_v2.as_deref(), bytes_as_base64);
        let secret = raw.or(raw_v2);
        let masked = secret.as_ref().map_or_else(String::new, |s| s.masked.clone());
        let redacted = util::non_empty(record.redacted.as_deref());
        if let Some(redacted) = &redacted
            && masker.is_part_of_secret(redacted)
        {
            masker.add(redacted, &masked);
        }

        let rule_id = util::non_empty(record.detector_name.as_deref())
            .or_else(|| util::non_empty(record.detector_type.as_deref()))
            .unwrap_or_else(|| "unknown-detector".to_string());
        let verified = record.verified.as_deref() == Some("true");
        let severity = if verified { Severity::Critical } else { Severity::High };
        let title = masker.mask(&format!("Hard Coded {rule_id} secret"));
        let mut finding = Finding::new(TOOL, rule_id.clone(), FindingKind::Secret, title, severity, asset);
        finding.add_cwe(HARD_CODED_CREDENTIALS);

        let path = util::non_empty(source.file.as_deref()).map(|file| masker.mask(&file));
        let line = source
            .line
            .as_deref()
            .and_then(|l| l.trim().parse::<u32>().ok())
            .filter(|&l| l > 0);
        let commit = util::non_empty(source.commit.as_deref());
        finding.location.path = path.clone();
        finding.location.start_line = line;
        let digest = secret.as_ref().map(|s| format!("sha256-{}", &s.sha256[..16]));
        let parts = [
            commit.clone(),
            path.clone(),
            Some(rule_id.clone()),
            line.map(|l| l.to_string()),
            digest,
        ];
        finding.tool_fingerprint = Some(parts.into_iter().flatten().collect::<Vec<_>>().join(":"));
        finding.evidence = redacted.map(|r| secrets_shared::clean_evidence(&masker.mask(&r)));
        finding
            .references
            .extend(util::non_empty(source.link.as_deref()).map(|link| masker.mask(&link)));

        let email = util::non_empty(source.email.as_deref());
        let verification_error = util::non_empty(record.verification_error.as_deref());
        let mut description = format!("TruffleHog found a {rule_id} secret");
        if let Some(path) = &path {
            description.push_str(&format!(" in {path}"));
            if let Some(line) = line {
                description.push_str(&format!(" at line {line}"));
            }
        }
        if let Some(commit) = &commit {
            description.push_str(&format!(", commit {commit}"));
            if let Some(email) = &email {
                description.push_str(&format!(" by {email}"));
            }
        }
        description.push('.');
        description.push_str(match (verified, &verification_error) {
            (true, _) => " TruffleHog verified that the credential is live.",
            (false, Some(_)) => " TruffleHog failed to verify the credential.",
            (false, None) => " TruffleHog did not verify the credential.",
        });
        if let Some(about) = util::non_empty(record.detector_description.as_deref()) {
            description.push_str(&format!(" {about}"));
        }
        description.push_str(" Rotate the credential and remove it from the history.");
        finding.description = Some(masker.mask(&description));

        let mut attributes = vec![
            ("commit".to_string(), commit),
            ("email".to_string(), email),
            ("timestamp".to_string(), util::non_empty(source.timestamp.as_deref())),
            ("repository".to_string(), repository),
            ("image".to_string(), image),
            ("source".to_string(), source_kind),
            (
                "source_name".to_string(),
                util::non_empty(record.source_name.as_deref()),
            ),
            ("decoder".to_string(), util::non_empty(record.decoder_name.as_deref())),
            (
                "detector_type".to_string(),
                util::non_empty(record.detector_type.as_deref()),
            ),
            ("verified".to_string(), Some(verified.to_string())),
            ("verification_error".to_string(), verification_error),
            ("visibility".to_string(), util::non_empty(source.visibility.as_deref())),
        ];
        for (key, value) in record.extra_data.unwrap_or_default() {
            attributes.push((format!("extra.{key}"), value.0));
        }
        for (name, value) in attributes {
            if let Some(value) = util::non_empty(value.as_deref()) {
                finding.attributes.insert(name, masker.mask(&value));
            }
        }

        finding.secret = secret;
        finding.target = Some(target);
        self.sink.finding(finding);
    }
}

/// Adds a `Raw` or `RawV2` value to the masker, decoding it first when the
/// report wrote secrets as base64, and returns its masked secret. Both the
/// decoded and the written forms are masked.
fn add_clear_value(masker: &mut Masker, written: Option<&str>, bytes_as_base64: bool) -> Option<MaskedSecret> {
    let written = written.filter(|w| !w.is_empty())?;
    let decoded = bytes_as_base64
        .then(|| secrets_shared::decode_base64(written))
        .flatten()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .filter(|text| !text.is_empty() && !text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')));
    let clear = decoded.as_deref().unwrap_or(written);
    let secret = masker.add_secret(clear);
    masker.add(written, &secret.masked);
    Some(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_raw_is_decoded() {
        let mut masker = Masker::default();
        let value = add_clear_value(&mut masker, Some("QUtJQVlWUDRDSVBQRVJVVklGWEc="), true).unwrap();
        assert_eq!(value, MaskedSecret::new("AKIAYVP4CIPPERUVIFXG"));
        assert_eq!(masker.mask("id AKIAYVP4CIPPERUVIFXG"), "id AKIA********");
        assert_eq!(masker.mask("raw QUtJQVlWUDRDSVBQRVJVVklGWEc="), "raw AKIA********");
    }

    #[test]
    fn text_raw_is_kept() {
        let mut masker = Masker::default();
        let value = add_clear_value(&mut masker, Some("YWRtaW46YWRtaW4="), false).unwrap();
        assert_eq!(value, MaskedSecret::new("YWRtaW46YWRtaW4="));
        let value = add_clear_value(&mut masker, Some("ghp_EXAMPLE"), true).unwrap();
        assert_eq!(value, MaskedSecret::new("ghp_EXAMPLE"), "not base64");
        assert!(add_clear_value(&mut masker, Some(""), true).is_none());
    }
}
