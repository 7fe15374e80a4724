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
