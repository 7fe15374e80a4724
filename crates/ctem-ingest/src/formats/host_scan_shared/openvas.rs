//! Helpers shared by the OpenVAS XML and CSV parsers, so that the two
//! exports of one scan give the same findings.

use ctem_model::{Finding, Severity, SourceStatus};

use super::{cvss_score, severity_word, unwrap_prose};
use crate::util;

/// The tool name of OpenVAS and Greenbone findings.
pub(crate) const TOOL: &str = "openvas";

/// Splits an OpenVAS port (`443/tcp`, `general/tcp`, `general/CPE-T`) into
/// a port number and a lowercase protocol. Ports that are no number give
/// neither, as Nessus's port 0 does.
pub(crate) fn port(text: &str) -> Option<(u16, String)> {
    let (number, protocol) = text.trim().split_once('/')?;
    let number = number.trim().parse::<u16>().ok().filter(|port| *port > 0)?;
    Some((number, protocol.trim().to_ascii_lowercase()))
}

/// Rates a result by its threat level (`Critical`, `High`, `Medium`,
/// `Low`, or `Log`, `Debug` and `False Positive` as `Info`), else by its
/// severity score, else by the highest CVSS vector of the finding.
pub(crate) fn severity(threat: Option<&str>, score: Option<&str>, finding: &Finding) -> Severity {
    if let Some(severity) = threat.and_then(severity_word) {
        return severity;
    }
    if threat.is_some_and(is_false_positive) {
        return Severity::Info;
    }
    score
        .and_then(cvss_score)
        .map(Severity::from_cvss_score)
        .unwrap_or_else(|| util::severity_or_cvss(None, finding))
}

/// Returns the status that a threat level states: `FalsePositive` for a
/// result that an override marked as a false positive.
pub(crate) fn source_status(threat: Option<&str>) -> Option<SourceStatus> {
    threat
        .filter(|threat| is_false_positive(threat))
        .map(|_| SourceStatus::FalsePositive)
}

fn is_false_positive(threat: &str) -> bool {
    threat.trim().eq_ignore_ascii_case("false positive")
}

/// Adds one OpenVAS reference by its type: `cve` ids, `bid` as `BID:<n>`,
/// CERT advisories (`cert-bund`, `dfn-cert`) as their ids, `url` as a
/// reference. Other types are classifications and are skipped.
pub(crate) fn add_reference(finding: &mut Finding, kind: &str, id: &str) {
    let id = id.trim();
    if id.is_empty() {
        return;
    }
    match kind.trim().to_ascii_lowercase().as_str() {
        "cve" => util::add_vulnerability_id(finding, id),
        "bid" => util::add_vulnerability_id(finding, &format!("BID:{id}")),
        "cert-bund" | "dfn-cert" | "cert" => util::add_vulnerability_id(finding, id),
        "url" if !finding.references.iter().any(|known| known == id) => {
            finding.references.push(id.to_string());
        }
        _ => {}
    }
}

/// The texts of an NVT that make up a finding's description.
#[derive(Debug, Default)]
pub(crate) struct NvtTexts<'t> {
    pub summary: Option<&'t str>,
    pub impact: Option<&'t str>,
    pub insight: Option<&'t str>,
    pub affected: Option<&'t str>,
    pub detection: Option<&'t str>,
}

impl NvtTexts<'_> {
    /// Builds the description: the summary, followed by one labelled
    /// paragraph for each other text that has content, with OpenVAS's line
    /// wrapping undone.
    pub fn description(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(summary) = self.summary.map(unwrap_prose).filter(|text| !text.is_empty()) {
            parts.push(summary);
        }
        for (label, text) in [
            ("Impact", self.impact),
            ("Insight", self.insight),
            ("Affected", self.affected),
            ("Detection", self.detection),
        ] {
            // The CSV export quotes the affected list with a leading apostrophe.
            let text = text.map(|text| unwrap_prose(text.trim_start_matches('\'')));
            if let Some(text) = text.filter(|text| !text.is_empty()) {
                parts.push(format!("{label}: {text}"));
            }
        }
        (!parts.is_empty()).then(|| parts.join("\n\n"))
    }
}

/// Collapses the whitespace in a title: OpenVAS reports wrap long NVT names.
pub(crate) fn title(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctem_model::{AssetKey, AssetKind, FindingKind};

    fn finding() -> Finding {
        Finding::new(
            TOOL,
            "1.3.6.1.4.1.25623.1.0.1",
            FindingKind::Vulnerability,
            "t",
            Severity::Info,
            AssetKey::new(AssetKind::Host, "10.0.0.1"),
        )
    }

    #[test]
    fn ports_split() {
        assert_eq!(port("443/tcp"), Some((443, "tcp".to_string())));
        assert_eq!(port("general/tcp"), None);
        assert_eq!(port("0/udp"), None);
    }

    #[test]
    fn severity_order() {
        let finding = finding();
        assert_eq!(severity(Some("High"), Some("9.8"), &finding), Severity::High);
        assert_eq!(severity(Some("Log"), Some("0.0"), &finding), Severity::Info);
        assert_eq!(severity(Some(""), Some("4.0"), &finding), Severity::Medium);
        assert_eq!(severity(Some("False Positive"), Some("7.5"), &finding), Severity::Info);
        assert_eq!(severity(None, None, &finding), Severity::Info);
        assert_eq!(source_status(Some("False Positive")), Some(SourceStatus::FalsePositive));
    }

    #[test]
    fn references_by_type() {
        let mut finding = finding();
        add_reference(&mut finding, "cve", "CVE-2011-3389");
        add_reference(&mut finding, "bid", "47071");
        add_reference(&mut finding, "cert-bund", "WID-SEC-2025-1850");
        add_reference(&mut finding, "url", "https://weakdh.org/");
        add_reference(&mut finding, "cisa", "KEV");
        let ids: Vec<&str> = finding.vulnerability_ids.iter().map(|id| id.as_str()).collect();
        assert_eq!(ids, ["CVE-2011-3389", "BID:47071", "WID-SEC-2025-1850"]);
        assert_eq!(finding.references, ["https://weakdh.org/"]);
    }

    #[test]
    fn description_has_labelled_parts() {
        let texts = NvtTexts {
            summary: Some("The host is\n  missing an update."),
            impact: Some(""),
            affected: Some("'- Windows 10"),
            ..NvtTexts::default()
        };
        assert_eq!(
            texts.description().as_deref(),
            Some("The host is missing an update.\n\nAffected: - Windows 10")
        );
        assert_eq!(NvtTexts::default().description(), None);
    }
}
