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

/// Returns whether a file's head contains no text: only whitespace and NUL bytes,
/// after a byte order mark (UTF-8, or a UTF-16 one, which PowerShell's `>`
/// writes). A scan that crashed leaves such a file.
pub fn is_blank(head: &[u8]) -> bool {
    let marks: [&[u8]; 3] = [b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"];
    let text = marks.iter().find_map(|mark| head.strip_prefix(*mark)).unwrap_or(head);
    text.iter().all(|byte| byte.is_ascii_whitespace() || *byte == 0)
}

/// Skips a UTF-8 byte order mark at the start of a report, which some
/// Windows tools write and which JSON parsers reject.
pub fn skip_byte_order_mark(reader: &mut impl std::io::BufRead) -> std::io::Result<()> {
    if reader.fill_buf()?.starts_with(b"\xef\xbb\xbf") {
        reader.consume(3);
    }
    Ok(())
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

/// Resolves an XML reference as quick-xml 0.38 reports it in
/// `Event::GeneralRef` (the text between `&` and `;`): the five predefined
/// entities and character references. Any other entity is returned as
/// written (`&name;`), so the entities that a DTD declares (as in the
/// billion laughs attack) are never expanded.
pub fn xml_reference(name: &str) -> String {
    let predefined = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    };
    let character = predefined.or_else(|| {
        let number = name.strip_prefix('#')?;
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        char::from_u32(code).filter(|c| *c != '\0')
    });
    match character {
        Some(character) => character.to_string(),
        None => format!("&{name};"),
    }
}

/// Unescapes an XML attribute value or text leniently: predefined entities
/// and character references are resolved (see [`xml_reference`]), and any
/// other `&name;`, or a lone `&`, stays as written.
pub fn xml_unescape(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('&') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut output = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        output.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        // A reference name is short, so a `;` far away belongs to other text.
        match after.find(';').filter(|end| *end > 0 && *end <= 32) {
            Some(end) => {
                output.push_str(&xml_reference(&after[..end]));
                rest = &after[end + 1..];
            }
            None => {
                output.push('&');
                rest = after;
            }
        }
    }
    output.push_str(rest);
    std::borrow::Cow::Owned(output)
}

/// Returns the unescaped value of an attribute of an XML element (see
/// [`xml_unescape`]), or `None` when the element has no such attribute.
/// Malformed attributes are skipped, and invalid UTF-8 is replaced.
pub fn xml_attribute(element: &quick_xml::events::BytesStart<'_>, name: &str) -> Option<String> {
    element
        .attributes()
        .with_checks(false)
        .flatten()
        .find(|attribute| attribute.key.as_ref() == name.as_bytes())
        .map(|attribute| xml_unescape(&String::from_utf8_lossy(&attribute.value)).into_owned())
}

/// Cuts text longer than `max_bytes` at a character boundary and appends a
/// line with the kept and the total size, so that evidence stays bounded
/// and a reader knows it was cut.
pub fn truncate_text(text: &str, max_bytes: usize) -> String {
    if text.len() <= max_bytes {
        return text.to_string();
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n[truncated: {end} of {} bytes kept]", &text[..end], text.len())
}

/// Creates a JSON deserializer over a parser's reader.
///
/// serde_json reads a reader one byte at a time. Through `&mut dyn BufRead`
/// each byte would be a dynamic call, which made JSON parsers several times
/// slower than the tokenizer alone. A [`std::io::BufReader`] of its own
/// serves the bytes from a concrete buffer and calls the inner reader once
/// per 64 KiB.
pub fn json_deserializer<R: std::io::Read>(
    reader: R,
) -> serde_json::Deserializer<serde_json::de::IoRead<std::io::BufReader<R>>> {
    serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(64 * 1024, reader))
}

#[cfg(test)]
mod xml_tests {
    use super::*;

    #[test]
    fn references_resolve() {
        assert_eq!(xml_reference("amp"), "&");
        assert_eq!(xml_reference("#xa"), "\n");
        assert_eq!(xml_reference("#9"), "\t");
        assert_eq!(xml_reference("lol9"), "&lol9;", "declared entities are not expanded");
        assert_eq!(xml_reference("#x0"), "&#x0;");
        assert_eq!(xml_reference("#xZZ"), "&#xZZ;");
    }

    #[test]
    fn unescape_is_lenient() {
        assert_eq!(xml_unescape("a &amp; b&#xa;&lt;c&gt;"), "a & b\n<c>");
        assert_eq!(xml_unescape("fish & chips"), "fish & chips");
        assert_eq!(xml_unescape("&lol;&lol;"), "&lol;&lol;");
        assert!(matches!(xml_unescape("plain"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn attribute_is_unescaped() {
        let element = quick_xml::events::BytesStart::from_content(r#"script id="vulners" output="&#xa;  cpe:/a:x""#, 6);
        assert_eq!(xml_attribute(&element, "output").as_deref(), Some("\n  cpe:/a:x"));
        assert_eq!(xml_attribute(&element, "missing"), None);
    }

    #[test]
    fn truncation_is_marked() {
        assert_eq!(truncate_text("short", 10), "short");
        let cut = truncate_text("ééééé", 5);
        assert!(cut.starts_with("éé\n"), "{cut}");
        assert!(cut.ends_with("[truncated: 4 of 10 bytes kept]"), "{cut}");
    }
}
