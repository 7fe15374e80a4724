//! The field mapping that the Burp Suite XML export and the Burp REST API
//! scan result share, so that one issue read from either gives the same
//! finding and fingerprint.

use std::collections::BTreeSet;

use ctem_model::{AssetKey, Finding, FindingKind, Severity, SourceStatus};

use super::dast_shared::{EVIDENCE_BYTES, Origin, cwe_numbers, html_links, html_to_text, insertion_point};
use crate::{ParseContext, Sink, util};

/// The tool name of Burp findings and scopes.
pub(crate) const TOOL: &str = "burp";

/// One Burp issue as both formats give it, with HTML texts as written and
/// the request head already masked.
#[derive(Debug, Default)]
pub(crate) struct BurpIssue {
    pub serial_number: Option<String>,
    /// The issue type (`type` in XML, `type_index` in JSON).
    pub type_id: Option<String>,
    pub name: Option<String>,
    /// `scheme://host[:port]` (`host` in XML, `origin` in JSON).
    pub origin: Option<String>,
    /// The address Burp resolved the host to (XML only).
    pub ip: Option<String>,
    pub path: Option<String>,
    /// The path with the insertion point (`location` in XML, `caption` in
    /// JSON): `/login.jsp [username parameter]`.
    pub location: Option<String>,
    pub severity: Option<String>,
    pub confidence: Option<String>,
    pub issue_background: Option<String>,
    pub remediation_background: Option<String>,
    pub issue_detail: Option<String>,
    pub remediation_detail: Option<String>,
    pub references: Option<String>,
    pub vulnerability_classifications: Option<String>,
    /// Detail items (XML) and information items (JSON), as plain text.
    pub detail_items: Vec<String>,
    /// The method of the first request.
    pub method: Option<String>,
    /// The head of the first request, credentials masked.
    pub request_head: Option<String>,
    /// The status line of the first response.
    pub response_status: Option<String>,
}

/// The web applications of one report whose asset and scope were sent.
#[derive(Debug, Default)]
pub(crate) struct BurpSites {
    sent: BTreeSet<String>,
}

impl BurpSites {
    /// Sends the asset and scope of the issue's origin once, and returns
    /// the origin, its asset key and its scope target. An issue without a
    /// readable origin belongs to [`ParseContext::default_target`].
    fn declare(
        &mut self,
        issue: &BurpIssue,
        context: &ParseContext<'_>,
        sink: &mut dyn Sink,
    ) -> (Option<Origin>, AssetKey, String) {
        let origin = issue.origin.as_deref().and_then(Origin::parse);
        let (asset, target) = match &origin {
            Some(origin) => (origin.asset(issue.ip.as_deref()), origin.to_url()),
            None => {
                let target = context.default_target.to_string();
                let asset = ctem_model::Asset::new(ctem_model::AssetKind::WebApp, &target, target.clone());
                (asset, target)
            }
        };
        let key = asset.key.clone();
        if self.sent.insert(target.clone()) {
            sink.asset(asset);
            sink.target(TOOL, &target);
        }
        (origin, key, target)
    }

    /// Declares the default target for a report that named no site.
    pub fn finish(&self, context: &ParseContext<'_>, sink: &mut dyn Sink) {
        if self.sent.is_empty() {
            sink.target(TOOL, context.default_target);
        }
    }

    /// Sends the issue's site (once) and its finding.
    pub fn send(&mut self, issue: BurpIssue, context: &ParseContext<'_>, sink: &mut dyn Sink) {
        let (origin, key, target) = self.declare(&issue, context, sink);
        sink.finding(finding(issue, origin.as_ref(), key, target));
    }
}

/// Builds the finding of one issue.
fn finding(issue: BurpIssue, origin: Option<&Origin>, key: AssetKey, target: String) -> Finding {
    let type_id = util::non_empty(issue.type_id.as_deref());
    let name = util::non_empty(issue.name.as_deref());
    let title = name
        .clone()
        .or_else(|| type_id.as_ref().map(|t| format!("Burp issue {t}")))
        .unwrap_or_else(|| "Burp issue without a name".to_string());
    let rule_id = type_id.unwrap_or_else(|| title.clone());
    let (severity, false_positive) = severity(issue.severity.as_deref());

    let mut finding = Finding::new(TOOL, rule_id, FindingKind::WebWeakness, title, severity, key);
    finding.target = Some(target);
    if false_positive {
        finding.source_status = Some(SourceStatus::FalsePositive);
    }

    let path = util::non_empty(issue.path.as_deref()).unwrap_or_default();
    finding.location.url = origin.map(|origin| origin.join(&path));
    finding.location.method = util::non_empty(issue.method.as_deref()).map(|m| m.to_ascii_uppercase());
    if let Some(point) = issue.location.as_deref().and_then(insertion_point) {
        finding.location.parameter = Some(point.name);
        finding.attributes.insert("insertion_point".into(), point.kind.into());
    }

    finding.description = join_texts([issue.issue_detail.as_deref(), issue.issue_background.as_deref()]);
    finding.fix.description = join_texts([
        issue.remediation_detail.as_deref(),
        issue.remediation_background.as_deref(),
    ]);
    for html in [
        issue.references.as_deref(),
        issue.vulnerability_classifications.as_deref(),
    ]
    .into_iter()
    .flatten()
    {
        for link in html_links(html) {
            if !finding.references.contains(&link) {
                finding.references.push(link);
            }
        }
    }
    if let Some(classifications) = issue.vulnerability_classifications.as_deref() {
        for number in cwe_numbers(classifications) {
            util::add_cwe(&mut finding, &number.to_string());
        }
    }
    finding.evidence = evidence(&issue);

    if let Some(serial) = util::non_empty(issue.serial_number.as_deref()) {
        finding.attributes.insert("serial_number".into(), serial);
    }
    if let Some(confidence) = util::non_empty(issue.confidence.as_deref()) {
        finding
            .attributes
            .insert("confidence".into(), confidence.to_ascii_lowercase());
    }
    finding
}

/// Maps Burp's severity (`High`, `Medium`, `Low`, `Information` in XML;
/// `high`, `medium`, `low`, `info` in JSON) to a severity, and returns
/// whether the issue is marked a false positive (`False positive`, which rates
/// nothing, so it becomes `Info`).
fn severity(word: Option<&str>) -> (Severity, bool) {
    let word = word.map(|w| w.trim().to_ascii_lowercase()).unwrap_or_default();
    if word.replace('_', " ") == "false positive" {
        return (Severity::Info, true);
    }
    (word.parse().unwrap_or(Severity::Info), false)
}

/// Joins HTML texts as plain paragraphs, skipping empty ones.
fn join_texts<'t>(texts: impl IntoIterator<Item = Option<&'t str>>) -> Option<String> {
    let parts: Vec<String> = texts
        .into_iter()
        .flatten()
        .map(html_to_text)
        .filter(|text| !text.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

/// Builds the evidence: detail items, the request head and the response
/// status line, cut to [`EVIDENCE_BYTES`]. Bodies are never kept.
fn evidence(issue: &BurpIssue) -> Option<String> {
    let mut parts = Vec::new();
    let items: Vec<String> = issue
        .detail_items
        .iter()
        .map(|item| html_to_text(item))
        .filter(|item| !item.is_empty())
        .map(|item| format!("- {item}"))
        .collect();
    if !items.is_empty() {
        parts.push(items.join("\n"));
    }
    if let Some(head) = util::non_empty(issue.request_head.as_deref()) {
        parts.push(format!("Request:\n{head}"));
    }
    if let Some(status) = util::non_empty(issue.response_status.as_deref()) {
        parts.push(format!("Response: {status}"));
    }
    (!parts.is_empty()).then(|| util::truncate_text(&parts.join("\n\n"), EVIDENCE_BYTES))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_words_map() {
        assert_eq!(severity(Some("Information")), (Severity::Info, false));
        assert_eq!(severity(Some("high")), (Severity::High, false));
        assert_eq!(severity(Some("False positive")), (Severity::Info, true));
        assert_eq!(severity(Some("false_positive")), (Severity::Info, true));
        assert_eq!(severity(None), (Severity::Info, false));
    }
}
