//! The mapping of a SARIF result's parts to finding fields: messages, ids,
//! CWEs, CVSS vectors, severity, references, status and fingerprint.

use ctem_model::{Finding, Severity, SourceStatus};

use super::schema::{Message, Properties, Rule, SarifFix, SarifResult, Suppression};
use crate::util;

/// Returns the tool's name in lower case, with spaces as hyphens; Semgrep's
/// editions (`Semgrep OSS`, `Semgrep PRO`) are all `semgrep`.
pub(super) fn tool_name(driver_name: Option<&str>) -> String {
    let name = driver_name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or("sarif")
        .to_lowercase();
    if name.starts_with("semgrep") {
        return "semgrep".to_string();
    }
    name.split_whitespace().collect::<Vec<_>>().join("-")
}

/// Returns false for results that report no problem (`kind` pass,
/// notApplicable or informational) or that are gone since the baseline.
pub(super) fn is_current_problem(result: &SarifResult) -> bool {
    let kind = result.kind.as_deref().unwrap_or("fail");
    if matches!(kind, "pass" | "notApplicable" | "informational") {
        return false;
    }
    result.baseline_state.as_deref() != Some("absent")
}

/// Returns a message's text: its own `text` or `markdown`, or the rule's
/// message string named by `id` with its `arguments` put in.
pub(super) fn resolve_message(message: &Message, rule: Option<&Rule>) -> Option<String> {
    if let Some(text) =
        util::non_empty(message.text.as_deref()).or_else(|| util::non_empty(message.markdown.as_deref()))
    {
        return Some(text);
    }
    let template = rule?.message_strings.get(message.id.as_deref()?)?;
    let template = template.text.as_deref().or(template.markdown.as_deref())?;
    Some(format_message(template, &message.arguments))
}

/// Puts arguments into a SARIF message template: `{0}` is the first
/// argument, and `{{` and `}}` are literal braces. A placeholder without an
/// argument is kept as written.
pub(super) fn format_message(template: &str, arguments: &[String]) -> String {
    let mut text = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(position) = rest.find(['{', '}']) {
        text.push_str(&rest[..position]);
        let tail = &rest[position..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            text.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        let placeholder = tail
            .strip_prefix('{')
            .and_then(|t| t.split_once('}'))
            .and_then(|(digits, after)| Some((digits.parse::<usize>().ok()?, after)));
        match placeholder.and_then(|(index, after)| Some((arguments.get(index)?, after))) {
            Some((argument, after)) => {
                text.push_str(argument);
                rest = after;
            }
            None => {
                text.push_str(&tail[..1]);
                rest = &tail[1..];
            }
        }
    }
    text.push_str(rest);
    text
}

/// Returns the first paragraph of a message, on one line.
pub(super) fn first_paragraph(message: &str) -> String {
    let trimmed = message.trim();
    // Most messages are one line with single spaces, which is already
    // their first paragraph on one line.
    let mut previous_space = false;
    let plain = trimmed.chars().all(|c| {
        let double_space = c == ' ' && previous_space;
        previous_space = c == ' ';
        !double_space && (c == ' ' || !c.is_whitespace())
    });
    if plain {
        return trimmed.to_string();
    }
    let message = message.replace("\r\n", "\n");
    let paragraph = message.trim().split("\n\n").next().unwrap_or_default();
    paragraph.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Returns a title from a rule's descriptions, name or id.
pub(super) fn rule_title(rule: &Rule) -> Option<String> {
    let descriptions = [&rule.short_description, &rule.full_description];
    descriptions
        .into_iter()
        .flatten()
        .find_map(|m| util::non_empty(m.text.as_deref()))
        .map(|text| first_paragraph(&text))
        .or_else(|| util::non_empty(rule.name.as_deref()))
        .or_else(|| util::non_empty(rule.id.as_deref()))
}

/// Finds the CVE and GHSA ids in a text such as a Grype rule id
/// (`CVE-2008-0732-geronimo-j2ee-management_1.1_spec`).
pub(super) fn find_advisory_ids(text: &str) -> Vec<String> {
    if !contains_ignore_ascii_case(text, "cve-") && !contains_ignore_ascii_case(text, "ghsa-") {
        return Vec::new();
    }
    let upper = text.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let mut ids = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let rest = &upper[start..];
        let Some(offset) = rest.find("CVE-").into_iter().chain(rest.find("GHSA-")).min() else {
            break;
        };
        let at = start + offset;
        let preceded_by_word = at > 0 && bytes[at - 1].is_ascii_alphanumeric();
        let id = if upper[at..].starts_with("CVE-") {
            cve_at(&upper[at..])
        } else {
            ghsa_at(&text[at..])
        };
        match id.filter(|_| !preceded_by_word) {
            Some(id) => {
                start = at + id.len();
                ids.push(id);
            }
            None => start = at + 1,
        }
    }
    ids
}

/// Returns whether `text` contains `needle` (lowercase ASCII) in any case,
/// without the allocation of lowercasing the text: rule ids and tags are
/// searched for every result, and most contain no advisory id or CWE.
fn contains_ignore_ascii_case(text: &str, needle: &str) -> bool {
    text.as_bytes()
        .windows(needle.len())
        .any(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Returns the CVE id at the start of the text, if one is there.
pub(super) fn cve_at(text: &str) -> Option<String> {
    let rest = text.get(4..)?;
    let year: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let number: String = rest
        .get(year.len() + 1..)?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let separator = rest.as_bytes().get(year.len()) == Some(&b'-');
    (year.len() == 4 && separator && number.len() >= 4).then(|| format!("CVE-{year}-{number}"))
}

/// Returns the GHSA id (`GHSA-xxxx-xxxx-xxxx`) at the start of the text, if
/// one is there.
pub(super) fn ghsa_at(text: &str) -> Option<String> {
    let candidate = text.get(..19)?;
    let groups: Vec<&str> = candidate.get(5..)?.split('-').collect();
    let valid = groups.len() == 3
        && groups
            .iter()
            .all(|g| g.len() == 4 && g.chars().all(|c| c.is_ascii_alphanumeric()));
    valid.then(|| candidate.to_string())
}

/// Adds the CWEs of the rule's relationships, tags and `cwe` property
/// (SnykCode writes `["CWE-79"]` there), and of the result's `cwe`
/// property and tags.
pub(super) fn add_cwes(finding: &mut Finding, rule: Option<&Rule>, result: &SarifResult, tags: &[&str]) {
    let related = rule
        .into_iter()
        .flat_map(|r| r.relationships.iter())
        .filter_map(|relationship| relationship.target.as_ref())
        .filter_map(|target| target.id.as_deref());
    let rule_property = rule
        .into_iter()
        .flat_map(|r| r.properties.cwe.iter())
        .map(String::as_str);
    let texts = related
        .chain(tags.iter().copied())
        .chain(rule_property)
        .chain(result.properties.cwe.iter().map(String::as_str));
    for text in texts {
        for cwe in find_cwes(text) {
            util::add_cwe(finding, &cwe);
        }
    }
}

/// Finds every `CWE-<number>` in a text, case-insensitively
/// (`external/cwe/cwe-079`, `CWE-327: Use of a Broken...`).
pub(super) fn find_cwes(text: &str) -> Vec<String> {
    if !contains_ignore_ascii_case(text, "cwe-") {
        return Vec::new();
    }
    let lower = text.to_ascii_lowercase();
    let mut cwes = Vec::new();
    let mut rest = lower.as_str();
    while let Some(offset) = rest.find("cwe-") {
        let digits: String = rest[offset + 4..].chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() {
            cwes.push(digits);
        }
        rest = &rest[offset + 4..];
    }
    cwes
}

/// Adds the CVSS vectors that OWASP Dependency-Check writes as one result
/// property per metric (`cvssv3_attackVector: NETWORK`, ...).
pub(super) fn add_cvss(finding: &mut Finding, properties: &Properties) {
    let metric = |value: &Option<String>, letters: &[(&str, &str)]| -> Option<String> {
        let value = value.as_deref()?.trim().to_ascii_uppercase();
        letters
            .iter()
            .find(|(word, _)| *word == value)
            .map(|(_, letter)| letter.to_string())
    };
    let impact3 = [("NONE", "N"), ("LOW", "L"), ("HIGH", "H")];
    let v3 = [
        (
            "AV",
            metric(
                &properties.cvss3_attack_vector,
                &[
                    ("NETWORK", "N"),
                    ("ADJACENT_NETWORK", "A"),
                    ("ADJACENT", "A"),
                    ("LOCAL", "L"),
                    ("PHYSICAL", "P"),
                ],
            ),
        ),
        (
            "AC",
            metric(&properties.cvss3_attack_complexity, &[("LOW", "L"), ("HIGH", "H")]),
        ),
        ("PR", metric(&properties.cvss3_privileges_required, &impact3)),
        (
            "UI",
            metric(&properties.cvss3_user_interaction, &[("NONE", "N"), ("REQUIRED", "R")]),
        ),
        (
            "S",
            metric(&properties.cvss3_scope, &[("UNCHANGED", "U"), ("CHANGED", "C")]),
        ),
        ("C", metric(&properties.cvss3_confidentiality, &impact3)),
        ("I", metric(&properties.cvss3_integrity, &impact3)),
        ("A", metric(&properties.cvss3_availability, &impact3)),
    ];
    if v3.iter().all(|(_, value)| value.is_some()) {
        let version = match properties.cvss3_version.as_deref().map(str::trim) {
            Some("3.0") => "3.0",
            _ => "3.1",
        };
        let metrics: Vec<String> = v3
            .iter()
            .map(|(name, value)| format!("{name}:{}", value.as_deref().unwrap_or_default()))
            .collect();
        util::add_cvss(finding, &format!("CVSS:{version}/{}", metrics.join("/")));
    }

    let impact2 = [("NONE", "N"), ("PARTIAL", "P"), ("COMPLETE", "C")];
    let v2 = [
        (
            "AV",
            metric(
                &properties.cvss2_access_vector,
                &[("NETWORK", "N"), ("ADJACENT_NETWORK", "A"), ("LOCAL", "L")],
            ),
        ),
        (
            "AC",
            metric(
                &properties.cvss2_access_complexity,
                &[("LOW", "L"), ("MEDIUM", "M"), ("HIGH", "H")],
            ),
        ),
        (
            "Au",
            metric(
                &properties.cvss2_authentication,
                &[("NONE", "N"), ("SINGLE", "S"), ("MULTIPLE", "M")],
            ),
        ),
        ("C", metric(&properties.cvss2_confidentiality, &impact2)),
        ("I", metric(&properties.cvss2_integrity, &impact2)),
        ("A", metric(&properties.cvss2_availability, &impact2)),
    ];
    if v2.iter().all(|(_, value)| value.is_some()) {
        let metrics: Vec<String> = v2
            .iter()
            .map(|(name, value)| format!("{name}:{}", value.as_deref().unwrap_or_default()))
            .collect();
        util::add_cvss(finding, &metrics.join("/"));
    }
}

/// Returns the severity of a result, in the order the module doc gives.
pub(super) fn severity(result: &SarifResult, rule: Option<&Rule>, finding: &Finding) -> Severity {
    let stated = [
        result.properties.security_severity.as_deref(),
        result.properties.severity.as_deref(),
        rule.and_then(|r| r.properties.security_severity.as_deref()),
    ];
    if let Some(severity) = stated.into_iter().flatten().find_map(severity_from_text) {
        return severity;
    }
    if let Some(vector) = finding.max_cvss() {
        return Severity::from_cvss_score(vector.base_score());
    }
    if let Some(score) = result
        .properties
        .cvss3_score
        .as_deref()
        .and_then(|s| s.trim().parse::<f64>().ok())
    {
        return Severity::from_cvss_score(score);
    }

    let level = result
        .level
        .as_deref()
        .or_else(|| rule?.default_configuration.as_ref()?.level.as_deref())
        .unwrap_or("warning");
    match level.trim() {
        "error" => Severity::High,
        "note" => Severity::Low,
        "none" => Severity::Info,
        _ => Severity::Medium,
    }
}

/// Reads a severity written as a score (`7.5`) or a word (`HIGH`).
pub(super) fn severity_from_text(text: &str) -> Option<Severity> {
    let text = text.trim();
    match text.parse::<f64>() {
        Ok(score) if (0.0..=10.0).contains(&score) => Some(Severity::from_cvss_score(score)),
        Ok(_) => None,
        Err(_) => text.parse().ok(),
    }
}

/// Returns the full message, followed by the rule's description and help
/// where they add to it.
pub(super) fn describe(message: Option<&str>, rule: Option<&Rule>) -> Option<String> {
    let mut parts: Vec<String> = message
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .into_iter()
        .collect();
    if let Some(rule) = rule {
        let description = [&rule.full_description, &rule.short_description]
            .into_iter()
            .flatten()
            .find_map(|m| util::non_empty(m.text.as_deref()));
        let help = rule
            .help
            .as_ref()
            .and_then(|h| util::non_empty(h.text.as_deref()))
            .filter(|h| !has_scheme(h));
        for text in [description, help].into_iter().flatten() {
            if !parts.iter().any(|part| part.contains(&text)) {
                parts.push(text);
            }
        }
    }
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

/// Returns the descriptions of the result's proposed fixes.
pub(super) fn fix_text(fixes: &[SarifFix]) -> Option<String> {
    let texts: Vec<String> = fixes
        .iter()
        .filter_map(|fix| fix.description.as_ref())
        .filter_map(|description| util::non_empty(description.text.as_deref()))
        .collect();
    (!texts.is_empty()).then(|| texts.join("\n"))
}

/// Returns the rule's help URL, its help text when that is an URL, and the
/// result's `reference` property.
pub(super) fn references(rule: Option<&Rule>, result: &SarifResult) -> Vec<String> {
    let help_uri = rule.and_then(|r| util::non_empty(r.help_uri.as_deref()));
    let help_text = rule
        .and_then(|r| r.help.as_ref())
        .and_then(|h| util::non_empty(h.text.as_deref()))
        .filter(|h| has_scheme(h) && !h.contains(char::is_whitespace));
    let property = util::non_empty(result.properties.reference.as_deref());
    let mut references: Vec<String> = Vec::new();
    for reference in [help_uri, help_text, property].into_iter().flatten() {
        if !references.contains(&reference) {
            references.push(reference);
        }
    }
    references
}

/// Maps a result's suppressions to a status: suppressed unless every one is
/// rejected, under investigation when every remaining one is under review.
pub(super) fn suppression_status(suppressions: &[Suppression]) -> Option<SourceStatus> {
    let standing: Vec<&str> = suppressions
        .iter()
        .map(|s| s.status.as_deref().unwrap_or("accepted"))
        .filter(|status| *status != "rejected")
        .collect();
    if standing.is_empty() {
        None
    } else if standing.iter().all(|status| *status == "underReview") {
        Some(SourceStatus::UnderInvestigation)
    } else {
        Some(SourceStatus::Suppressed)
    }
}

/// Returns the tool's fingerprint of a result (see the module doc).
pub(super) fn tool_fingerprint(result: &SarifResult) -> Option<String> {
    if !result.fingerprints.is_empty() {
        // Keys are `method/vN`; the first method in sort order, at its
        // highest version.
        let method = |key: &str| key.rsplit_once('/').map_or(key, |(method, _)| method).to_string();
        let version = |key: &str| {
            key.rsplit_once("/v")
                .and_then(|(_, v)| v.parse::<u32>().ok())
                .unwrap_or(0)
        };
        let first_method = method(result.fingerprints.keys().next()?);
        return result
            .fingerprints
            .iter()
            .filter(|(key, _)| method(key) == first_method)
            .max_by_key(|(key, _)| version(key))
            .map(|(_, value)| value.clone());
    }
    if !result.partial_fingerprints.is_empty() {
        let parts: Vec<String> = result
            .partial_fingerprints
            .iter()
            .map(|(key, value)| format!("{key}:{value}"))
            .collect();
        return Some(parts.join("|"));
    }
    None
}

/// Returns true for an absolute uri (`file:///src/a.c`, `https://...`).
pub(super) fn has_scheme(uri: &str) -> bool {
    match uri.split_once(':') {
        Some((scheme, _)) => {
            scheme.len() > 1
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// Returns a line or column number when it is positive and fits.
pub(super) fn positive(value: Option<i64>) -> Option<u32> {
    value.and_then(|v| u32::try_from(v).ok()).filter(|&v| v > 0)
}
