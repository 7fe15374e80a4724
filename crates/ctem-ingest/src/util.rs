//! Helpers that several parsers share.

use ctem_model::{CvssVector, Cwe, Finding, Severity, VulnerabilityId};

/// Adds a vulnerability id from report text, ignoring text that is no valid
/// id (empty strings, placeholders such as `N/A`).
pub fn add_vulnerability_id(finding: &mut Finding, text: &str) {
    if let Ok(id) = text.parse::<VulnerabilityId>() {
        finding.add_vulnerability_id(id);
    }
}

/// Adds a CWE from report text (`CWE-79`, `79`), ignoring invalid text.
pub fn add_cwe(finding: &mut Finding, text: &str) {
    if let Ok(cwe) = text.parse::<Cwe>() {
        finding.add_cwe(cwe);
    }
}

/// Adds a CVSS vector from report text, ignoring invalid vectors: a report
/// with one bad vector still has a usable finding.
pub fn add_cvss(finding: &mut Finding, text: &str) {
    if let Ok(vector) = text.parse::<CvssVector>() {
        finding.add_cvss(vector);
    }
}

/// The severity word of a report, or the rating of the finding's highest
/// CVSS score where the word is missing or unknown, or `Info`.
pub fn severity_or_cvss(word: Option<&str>, finding: &Finding) -> Severity {
    word.and_then(|w| w.parse().ok())
        .or_else(|| finding.max_cvss().map(|v| Severity::from_cvss_score(v.base_score())))
        .unwrap_or(Severity::Info)
}

/// Text with surrounding whitespace removed, or `None` when nothing is left.
pub fn non_empty(text: Option<&str>) -> Option<String> {
    text.map(str::trim).filter(|t| !t.is_empty()).map(str::to_string)
}

/// Whether `needle` occurs in `haystack` (a byte-string search for detection).
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// The head of a file with leading whitespace and a UTF-8 byte order mark removed.
pub fn trim_start(head: &[u8]) -> &[u8] {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(head.len());
    &head[start..]
}

/// Deserializes a scalar that reports write sometimes as a string and
/// sometimes as a number or boolean (ZAP's `"riskcode": "2"`, SARIF property
/// bags) into its text. `null`, objects and arrays give `None`, so a tool
/// that changes a field's type does not make the whole report unreadable.
/// Use with `#[serde(default, deserialize_with = "util::loose_text")]`.
pub fn loose_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    struct LooseText;

    impl<'de> serde::de::Visitor<'de> for LooseText {
        type Value = Option<String>;

        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str("a string, a number or a boolean")
        }

        fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Self::Value, E> {
            Ok(Some(value.to_string()))
        }

        fn visit_string<E: serde::de::Error>(self, value: String) -> Result<Self::Value, E> {
            Ok(Some(value))
        }

        fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Self::Value, E> {
            Ok(Some(value.to_string()))
        }

        fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Self::Value, E> {
            Ok(Some(value.to_string()))
        }

        fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Self::Value, E> {
            Ok(Some(value.to_string()))
        }

        fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<Self::Value, E> {
            Ok(Some(value.to_string()))
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(None)
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map
                .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                .is_some()
            {}
            Ok(None)
        }
    }

    deserializer.deserialize_any(LooseText)
}

/// Turns the HTML fragments that ZAP writes in descriptions and solutions
/// (`<p>one</p><p>two</p>`) into plain text: one paragraph per `<p>`,
/// separated by a blank line, `<br>` as a line break, and the five XML
/// entities plus `&nbsp;` decoded. Other tags are kept as text, because
/// ZAP also quotes markup that a page returned.
pub fn html_paragraphs_to_text(html: &str) -> String {
    let mut text = html.replace("\r\n", "\n");
    for (tag, replacement) in [
        ("</p>", "\n\n"),
        ("</P>", "\n\n"),
        ("<p>", "\n\n"),
        ("<P>", "\n\n"),
        ("<br/>", "\n"),
        ("<br />", "\n"),
        ("<br>", "\n"),
    ] {
        text = text.replace(tag, replacement);
    }
    // `&amp;` last, so that `&amp;lt;` stays the text `&lt;`.
    for (entity, character) in [
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&quot;", "\""),
        ("&#39;", "'"),
        ("&apos;", "'"),
        ("&nbsp;", " "),
        ("&amp;", "&"),
    ] {
        text = text.replace(entity, character);
    }

    let paragraphs: Vec<String> = text
        .split("\n\n")
        .map(|paragraph| {
            paragraph
                .lines()
                .map(str::trim_end)
                .collect::<Vec<_>>()
                .join("\n")
                .trim()
                .to_string()
        })
        .filter(|paragraph| !paragraph.is_empty())
        .collect();
    paragraphs.join("\n\n")
}
