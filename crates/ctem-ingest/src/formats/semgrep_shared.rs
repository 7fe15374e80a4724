//! Code that the Semgrep parsers share: severity words, CWE names and
//! titles from rule messages.

use ctem_model::{Finding, Severity};

use crate::util;

/// The text that Semgrep writes in place of `lines` and `fingerprint` when
/// the scan ran without logging in to Semgrep (Semgrep 1.x).
pub(crate) const REQUIRES_LOGIN: &str = "requires login";

/// The maximum length of a title taken from a rule message, in characters.
const MAX_TITLE_CHARS: usize = 160;

/// Maps a Semgrep severity to ours, as Semgrep's own documentation does:
/// the legacy rule levels `ERROR`, `WARNING` and `INFO` are High, Medium
/// and Low, and the newer `CRITICAL`, `HIGH`, `MEDIUM` and `LOW` map to
/// the levels of the same name. `EXPERIMENT` and `INVENTORY` rules report facts, not
/// weaknesses, so they are Info. Returns `None` for other words.
pub(crate) fn severity(word: &str) -> Option<Severity> {
    let severity = match word.trim().to_ascii_uppercase().as_str() {
        "CRITICAL" => Severity::Critical,
        "ERROR" | "HIGH" => Severity::High,
        "WARNING" | "MEDIUM" => Severity::Medium,
        "INFO" | "LOW" => Severity::Low,
        "EXPERIMENT" | "INVENTORY" => Severity::Info,
        _ => return None,
    };
    Some(severity)
}

/// Adds the CWEs of Semgrep's CWE names (`CWE-89: Improper Neutralization
/// of ...`), ignoring names without a valid id.
pub(crate) fn add_cwe_names(finding: &mut Finding, names: &[String]) {
    for name in names {
        let id = name.split(':').next().unwrap_or_default();
        util::add_cwe(finding, id);
    }
}

/// Builds a title from a rule message: its first sentence with runs of
/// whitespace collapsed, cut at a word boundary past [`MAX_TITLE_CHARS`].
/// Semgrep rules have no short name, and their messages run to several
/// wrapped lines. Returns `None` for an empty message.
pub(crate) fn title_from_message(message: &str) -> Option<String> {
    let collapsed = message.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.is_empty() {
        return None;
    }

    // A sentence ends at a period followed by a space, so that versions
    // (`1.2.3`), file names and URLs inside it do not end it.
    let sentence = match collapsed.find(". ") {
        Some(end) => &collapsed[..=end],
        None => collapsed.as_str(),
    };
    if sentence.chars().count() <= MAX_TITLE_CHARS {
        return Some(sentence.to_string());
    }

    let cut: String = sentence.chars().take(MAX_TITLE_CHARS).collect();
    let cut = match cut.rfind(' ') {
        Some(space) if space > 0 => &cut[..space],
        _ => cut.as_str(),
    };
    Some(format!("{}…", cut.trim_end_matches([',', ';', ':'])))
}

/// Returns the last part of a dotted rule id, as a last-resort title
/// (`python.lang.security.audit.eval-detected.eval-detected` ->
/// `eval-detected`).
pub(crate) fn title_from_rule_id(rule_id: &str) -> String {
    rule_id
        .rsplit('.')
        .find(|part| !part.is_empty())
        .unwrap_or(rule_id)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctem_model::{AssetKey, AssetKind, Cwe, FindingKind};

    #[test]
    fn severity_words_map() {
        assert_eq!(severity("ERROR"), Some(Severity::High));
        assert_eq!(severity("warning"), Some(Severity::Medium));
        assert_eq!(severity("INFO"), Some(Severity::Low));
        assert_eq!(severity("CRITICAL"), Some(Severity::Critical));
        assert_eq!(severity("INVENTORY"), Some(Severity::Info));
        assert_eq!(severity("severe"), None);
    }

    #[test]
    fn cwe_names_give_ids() {
        let mut finding = Finding::new(
            "semgrep",
            "r",
            FindingKind::CodeWeakness,
            "t",
            Severity::Low,
            AssetKey::new(AssetKind::Repository, "x"),
        );
        let names = [
            "CWE-327: Use of a Broken or Risky Cryptographic Algorithm".to_string(),
            "CWE-696".to_string(),
            "not a cwe".to_string(),
        ];
        add_cwe_names(&mut finding, &names);
        assert_eq!(finding.cwes, [Cwe(327), Cwe(696)]);
    }

    #[test]
    fn title_takes_first_sentence() {
        let message = "Using CBC with PKCS5Padding is susceptible to padding oracle attacks. A malicious actor\ncould discern the difference.";
        assert_eq!(
            title_from_message(message).as_deref(),
            Some("Using CBC with PKCS5Padding is susceptible to padding oracle attacks.")
        );
        assert_eq!(
            title_from_message("Use requests 2.31.0 or later").as_deref(),
            Some("Use requests 2.31.0 or later")
        );
        assert_eq!(title_from_message(" \n "), None);
    }

    #[test]
    fn long_title_is_cut_at_word() {
        let message = "word ".repeat(100);
        let title = title_from_message(&message).unwrap();
        assert!(title.ends_with("word…"), "{title}");
        assert!(title.chars().count() <= MAX_TITLE_CHARS + 1);
    }

    #[test]
    fn rule_id_title_is_last_part() {
        assert_eq!(title_from_rule_id("a.b.eval-detected"), "eval-detected");
        assert_eq!(title_from_rule_id("plain"), "plain");
    }
}
