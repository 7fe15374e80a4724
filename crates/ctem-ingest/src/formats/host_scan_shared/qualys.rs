//! Helpers shared by the Qualys XML and CSV parsers, so that both exports
//! of one scan give the same findings.

use ctem_model::{Finding, SourceStatus};

use super::{add_cvss_v2, add_cvss_v3, html_to_text, long_text, score_and_vector};
use crate::util;

/// The tool name of Qualys findings.
pub(crate) const TOOL: &str = "qualys";

/// The CVSS v3 version of a vector that Qualys writes without its prefix
/// and without a version element: 3.0, the version Qualys rated with when
/// it added CVSS v3 scores. The base metrics of 3.0 and 3.1 are the same.
pub(crate) const DEFAULT_CVSS3_VERSION: &str = "3.0";

/// Names the kind of a detection in one word: `confirmed` (Qualys `Vuln`,
/// `Confirmed`), `potential` (`Practice`, `Potential`) or `information`
/// (`Ig`, `Info`, information gathered).
pub(crate) fn detection_type(text: &str) -> Option<&'static str> {
    match text.trim().to_ascii_lowercase().as_str() {
        "vuln" | "confirmed" | "vulnerability" => Some("confirmed"),
        "practice" | "potential" => Some("potential"),
        "ig" | "info" | "information" | "information gathered" => Some("information"),
        _ => None,
    }
}

/// Maps a Qualys vulnerability status to a source status: `Fixed`, or `Affected` for
/// `New`, `Active` and `Re-Opened`.
pub(crate) fn source_status(text: &str) -> Option<SourceStatus> {
    match text.trim().to_ascii_lowercase().as_str() {
        "fixed" => Some(SourceStatus::Fixed),
        "new" | "active" | "re-opened" | "reopened" => Some(SourceStatus::Affected),
        _ => None,
    }
}

/// Adds a Qualys CVSS cell (`9.0 (AV:N/AC:H/...)`, or a score alone) to a
/// finding and returns its score. A v3 vector without prefix gets the
/// prefix of `v3_version`.
pub(crate) fn add_cvss(finding: &mut Finding, text: &str, v3_version: Option<&str>) -> Option<String> {
    let (score, vector) = match score_and_vector(text) {
        (Some(alone), None) if alone.contains("AV:") => (None, Some(alone)),
        split => split,
    };
    if let Some(vector) = vector {
        match v3_version {
            Some(version) => add_cvss_v3(finding, vector, version),
            None => add_cvss_v2(finding, vector),
        }
    }
    score.filter(|score| !super::is_placeholder(score)).map(str::to_string)
}

/// Adds links as references, and the CWE of each link to a CWE page of
/// MITRE, which is how Qualys names the weakness class of a QID.
pub(crate) fn add_links(finding: &mut Finding, links: impl IntoIterator<Item = String>) {
    for link in links {
        let cwe = link
            .strip_prefix("https://cwe.mitre.org/data/definitions/")
            .or_else(|| link.strip_prefix("http://cwe.mitre.org/data/definitions/"));
        if let Some(number) = cwe {
            util::add_cwe(finding, number.trim_end_matches(".html"));
        }
        if !finding.references.contains(&link) {
            finding.references.push(link);
        }
    }
}

/// The knowledge base texts of a QID, as Qualys writes them in HTML.
#[derive(Debug, Default)]
pub(crate) struct QidTexts<'t> {
    /// The threat (`THREAT`, or `DIAGNOSIS` in scan reports).
    pub threat: Option<&'t str>,
    /// The impact (`IMPACT`, or `CONSEQUENCE` in scan reports).
    pub impact: Option<&'t str>,
    pub solution: Option<&'t str>,
}

/// A finding's texts in plain text, with the links they contain.
#[derive(Debug, Default)]
pub(crate) struct PlainTexts {
    pub description: Option<String>,
    pub solution: Option<String>,
    pub links: Vec<String>,
}

impl QidTexts<'_> {
    /// Converts the texts to plain text: the threat, then the impact as a
    /// labelled paragraph, form the description.
    pub fn plain(&self) -> PlainTexts {
        let mut links = Vec::new();
        let mut convert = |html: Option<&str>| {
            let (text, found) = html_to_text(html?);
            for link in found {
                if !links.contains(&link) {
                    links.push(link);
                }
            }
            long_text(&text)
        };
        let threat = convert(self.threat);
        let impact = convert(self.impact).map(|impact| format!("Impact: {impact}"));
        let solution = convert(self.solution);
        let parts: Vec<String> = [threat, impact].into_iter().flatten().collect();
        PlainTexts {
            description: (!parts.is_empty()).then(|| parts.join("\n\n")),
            solution,
            links,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctem_model::{AssetKey, AssetKind, FindingKind, Severity};

    #[test]
    fn cvss_cells() {
        let mut finding = Finding::new(
            TOOL,
            "370876",
            FindingKind::Vulnerability,
            "t",
            Severity::Info,
            AssetKey::new(AssetKind::Host, "10.0.0.1"),
        );
        let score = add_cvss(&mut finding, "9.3 (AV:N/AC:M/Au:N/C:C/I:C/A:C)", None);
        assert_eq!(score.as_deref(), Some("9.3"));
        let score = add_cvss(&mut finding, "9.0 (AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:H/A:H)", Some("3.0"));
        assert_eq!(score.as_deref(), Some("9.0"));
        assert_eq!(add_cvss(&mut finding, "6.4", None).as_deref(), Some("6.4"));
        assert_eq!(add_cvss(&mut finding, "-", None), None);
        let vectors: Vec<String> = finding.cvss.iter().map(ToString::to_string).collect();
        assert_eq!(
            vectors,
            [
                "AV:N/AC:M/Au:N/C:C/I:C/A:C",
                "CVSS:3.0/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:H/A:H"
            ]
        );
    }

    #[test]
    fn words_map() {
        assert_eq!(detection_type("Ig"), Some("information"));
        assert_eq!(detection_type("POTENTIAL"), Some("potential"));
        assert_eq!(detection_type("Vuln"), Some("confirmed"));
        assert_eq!(source_status("Re-Opened"), Some(SourceStatus::Affected));
        assert_eq!(source_status("Fixed"), Some(SourceStatus::Fixed));
    }

    #[test]
    fn texts_become_plain() {
        let texts = QidTexts {
            threat: Some("AMD processors<BR>are affected.<P>"),
            impact: Some("Attackers gain code execution.<P>"),
            solution: Some("See <A HREF=\"https://amd.example.test/a\">AMD</A>."),
        };
        let plain = texts.plain();
        assert_eq!(
            plain.description.as_deref(),
            Some("AMD processors\nare affected.\n\nImpact: Attackers gain code execution.")
        );
        assert_eq!(plain.solution.as_deref(), Some("See AMD."));
        assert_eq!(plain.links, ["https://amd.example.test/a"]);
    }
}
