//! SPDX 2.x tag-value documents (`.spdx`): the text form of SPDX software
//! bills of materials, from Trivy, Syft, the SPDX tools and others.
//!
//! # Reads
//!
//! SPDX 2.2 and 2.3 tag-value: lines of `Tag: value`, with multi-line
//! values between `<text>` and `</text>`, and `#` comments. The document
//! tags `SPDXVersion`, `SPDXID`, `DocumentName`, `DocumentNamespace` and
//! `Creator`; the package tags `PackageName` (which opens a package),
//! `SPDXID`, `PackageVersion`, `PrimaryPackagePurpose`, `ExternalRef`
//! (`CATEGORY TYPE LOCATOR`) and `ExternalRefComment`; and `Relationship`
//! (`ELEMENT TYPE RELATED`). `FileName`, `SnippetSPDXID` and `LicenseID`
//! open sections whose tags are skipped. A document without
//! `SPDXVersion`, or with a version other than `SPDX-2.x`, is rejected.
//!
//! # Field mapping
//!
//! The same as the SPDX JSON parser (`spdx-json`): the described package
//! is the subject asset, the other packages are `Component` assets,
//! relationships between packages are `Contains` relationships, and each
//! CVE or GHSA id that a package's `SECURITY` external reference names
//! gives one finding on that package.
//!
//! # Scope target
//!
//! The described package's name without version, else the `DocumentName`,
//! else the `DocumentNamespace`, else [`ParseContext::default_target`].
//!
//! # Fingerprint
//!
//! Tool (the first `Creator: Tool:` without its version, else `spdx`),
//! vulnerability id, the subject, and the component's purl (or name and
//! version).
//!
//! # Not read yet
//!
//! File, snippet and license sections, annotations, checksums, and the
//! other package tags.
//!
//! # Limits
//!
//! A line longer than 1 MiB, or a `<text>` value longer than 4 MiB, is
//! rejected, so that a file without line breaks cannot fill the memory.
//!
//! # Reference
//!
//! <https://spdx.github.io/spdx-spec/v2.3/> (annex "SPDX tag-value format"
//! and the package and relationship sections).

use std::io::BufRead;

use crate::formats::spdx_shared::{self, SpdxDocument, SpdxPackage};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Position, Sink, util};

const FORMAT_ID: &str = "spdx-tag-value";
/// The maximum length in bytes of one line.
const MAX_LINE_BYTES: usize = 1024 * 1024;
/// The maximum length in bytes of one `<text>` value.
const MAX_TEXT_BYTES: usize = 4 * 1024 * 1024;

/// The SPDX 2.x tag-value parser.
pub struct SpdxTagValue;

impl Parser for SpdxTagValue {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "SPDX tag-value",
            tool: "any SPDX producer (Trivy, Syft, SPDX tools...)",
            versions: "SPDX 2.2 and 2.3",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        let first_tag = head
            .split(|b| *b == b'\n')
            .map(util::trim_start)
            .find(|line| !line.is_empty() && !line.starts_with(b"#"));
        match first_tag {
            Some(line) if line.starts_with(b"SPDXVersion:") => Detection::Certain,
            _ => Detection::No,
        }
    }

    fn parse(
        &self,
        context: &ParseContext<'_>,
        reader: &mut dyn BufRead,
        sink: &mut dyn Sink,
    ) -> Result<(), ParseError> {
        let mut lines = Lines {
            reader,
            number: 0,
            buffer: Vec::new(),
        };
        let mut builder = Builder::default();
        let fail = |line: u64, message: String| {
            ParseError::new(
                context.path,
                FORMAT_ID,
                Some(Position::LineColumn { line, column: 1 }),
                message,
            )
        };

        while let Some(line) = lines.next_line().map_err(|(line, message)| fail(line, message))? {
            let number = lines.number;
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let Some((tag, value)) = trimmed.split_once(':') else {
                return Err(fail(
                    number,
                    format!(
                        "expected a `Tag: value` line, found {:?}",
                        util::truncate_text(trimmed, 80)
                    ),
                ));
            };
            let value = value.trim();
            let value = match value.strip_prefix("<text>") {
                Some(rest) => lines.text_value(rest).map_err(|(line, message)| fail(line, message))?,
                None => value.to_string(),
            };
            builder
                .tag(tag.trim(), value)
                .map_err(|message| fail(number, message))?;
        }

        let document = builder.finish().map_err(|message| fail(lines.number.max(1), message))?;
        document.emit(context, sink);
        Ok(())
    }
}

/// A reader of bounded lines that counts them.
struct Lines<'r> {
    reader: &'r mut dyn BufRead,
    /// The number of the last line read, from 1.
    number: u64,
    buffer: Vec<u8>,
}

/// An error at a line number.
type LineError = (u64, String);

impl Lines<'_> {
    /// Reads the next line without its line break, or `None` at the end.
    fn next_line(&mut self) -> Result<Option<String>, LineError> {
        self.buffer.clear();
        let number = self.number + 1;
        loop {
            let available = self
                .reader
                .fill_buf()
                .map_err(|error| (number, format!("read failed: {error}")))?;
            if available.is_empty() {
                if self.buffer.is_empty() {
                    return Ok(None);
                }
                break;
            }
            let (chunk, found) = match available.iter().position(|b| *b == b'\n') {
                Some(end) => (&available[..=end], true),
                None => (available, false),
            };
            if self.buffer.len() + chunk.len() > MAX_LINE_BYTES + 1 {
                return Err((
                    number,
                    format!("line longer than {MAX_LINE_BYTES} bytes: this is not an SPDX tag-value document"),
                ));
            }
            self.buffer.extend_from_slice(chunk);
            let used = chunk.len();
            self.reader.consume(used);
            if found {
                break;
            }
        }

        self.number = number;
        while matches!(self.buffer.last(), Some(b'\n' | b'\r')) {
            self.buffer.pop();
        }
        let line = std::str::from_utf8(&self.buffer).map_err(|error| {
            (
                number,
                format!("invalid UTF-8 at byte {} of the line: {error}", error.valid_up_to()),
            )
        })?;
        Ok(Some(line.to_string()))
    }

    /// Reads a `<text>` value to its `</text>`, from the rest of its first
    /// line.
    fn text_value(&mut self, first: &str) -> Result<String, LineError> {
        let opened = self.number;
        let mut text = String::new();
        let mut line = first.to_string();
        loop {
            if let Some(end) = line.find("</text>") {
                text.push_str(&line[..end]);
                return Ok(text.trim().to_string());
            }
            text.push_str(&line);
            text.push('\n');
            if text.len() > MAX_TEXT_BYTES {
                return Err((opened, format!("<text> value longer than {MAX_TEXT_BYTES} bytes")));
            }
            line = self.next_line()?.ok_or_else(|| {
                (
                    opened,
                    "the file ends inside the <text> value opened on this line, it may be truncated".to_string(),
                )
            })?;
        }
    }
}

/// The section that the tags being read belong to.
#[derive(Debug, PartialEq, Eq)]
enum Section {
    Document,
    Package,
    /// A file, snippet or license section, whose tags are skipped.
    Other,
}

/// Builds an [`SpdxDocument`] from tags in file order.
struct Builder {
    document: SpdxDocument,
    version_seen: bool,
    section: Section,
    package: Option<SpdxPackage>,
    /// Whether the last `ExternalRef` was kept as a security reference, so
    /// that an `ExternalRefComment` after it belongs to it.
    security_ref_last: bool,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            document: SpdxDocument::default(),
            version_seen: false,
            section: Section::Document,
            package: None,
            security_ref_last: false,
        }
    }
}

impl Builder {
    fn tag(&mut self, tag: &str, value: String) -> Result<(), String> {
        match tag {
            "SPDXVersion" => {
                spdx_shared::check_version(&value)?;
                self.version_seen = true;
            }
            "PackageName" => {
                self.close_package();
                self.section = Section::Package;
                self.security_ref_last = false;
                self.package = Some(SpdxPackage {
                    name: Some(value),
                    ..SpdxPackage::default()
                });
            }
            "FileName" | "SnippetSPDXID" | "LicenseID" => {
                self.close_package();
                self.section = Section::Other;
            }
            "Relationship" => {
                let parts: Vec<&str> = value.split_whitespace().collect();
                match parts.as_slice() {
                    [element, kind, related, ..] => {
                        self.document
                            .relationships
                            .push((element.to_string(), kind.to_string(), related.to_string()))
                    }
                    _ => {
                        return Err(format!(
                            "expected `Relationship: ELEMENT TYPE RELATED`, found {value:?}"
                        ));
                    }
                }
            }
            _ => match self.section {
                Section::Document => self.document_tag(tag, value),
                Section::Package => self.package_tag(tag, value)?,
                Section::Other => {}
            },
        }
        Ok(())
    }

    fn document_tag(&mut self, tag: &str, value: String) {
        match tag {
            "SPDXID" => self.document.spdx_id = Some(value),
            "DocumentName" => self.document.name = Some(value),
            "DocumentNamespace" => self.document.namespace = Some(value),
            "Creator" => self.document.creators.push(value),
            _ => {}
        }
    }

    fn package_tag(&mut self, tag: &str, value: String) -> Result<(), String> {
        let Some(package) = &mut self.package else {
            return Ok(());
        };
        match tag {
            "SPDXID" => package.spdx_id = Some(value),
            "PackageVersion" => package.version = Some(value),
            "PrimaryPackagePurpose" => package.purpose = Some(value),
            "ExternalRef" => {
                let parts: Vec<&str> = value.split_whitespace().collect();
                match parts.as_slice() {
                    [category, kind, locator, ..] => {
                        self.security_ref_last = package.add_external_ref(category, kind, locator, None);
                    }
                    _ => {
                        return Err(format!(
                            "expected `ExternalRef: CATEGORY TYPE LOCATOR`, found {value:?}"
                        ));
                    }
                }
            }
            "ExternalRefComment" => {
                if self.security_ref_last
                    && let Some(last) = package.security_refs.last_mut()
                {
                    last.comment = Some(value);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn close_package(&mut self) {
        if let Some(package) = self.package.take() {
            self.document.packages.push(package);
        }
    }

    fn finish(mut self) -> Result<SpdxDocument, String> {
        if !self.version_seen {
            return Err("missing SPDXVersion: expected an SPDX 2.2 or 2.3 tag-value document".to_string());
        }
        self.close_package();
        Ok(self.document)
    }
}
