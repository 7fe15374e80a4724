use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The severity a tool or a CVSS score gives a finding, on one scale for all
/// tools. Ordered from `Info` (lowest) to `Critical` (highest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

/// A severity word that no tool we read uses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid severity {value:?}: expected one of critical, high, medium, low, info")]
pub struct SeverityError {
    /// The rejected text.
    pub value: String,
}

impl Severity {
    /// All severities from the highest to the lowest.
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// Maps a CVSS base score to its qualitative rating (CVSS v3.1
    /// specification, section 5): 0.0 is `Info`, 0.1–3.9 `Low`, 4.0–6.9
    /// `Medium`, 7.0–8.9 `High` and 9.0–10.0 `Critical`.
    pub fn from_cvss_score(score: f64) -> Severity {
        match score {
            s if s >= 9.0 => Severity::Critical,
            s if s >= 7.0 => Severity::High,
            s if s >= 4.0 => Severity::Medium,
            s if s > 0.0 => Severity::Low,
            _ => Severity::Info,
        }
    }

    /// The lowercase name used in JSON, the database and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = SeverityError;

    /// Parses the severity words of the tools ctem reads, case-insensitively:
    /// besides the five names, `informational`, `note`, `none`, `negligible`
    /// and `unknown` map to `Info`, `moderate` and `warning` to `Medium`,
    /// `error` and `important` to `High`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let word = s.trim().to_ascii_lowercase();
        let severity = match word.as_str() {
            "critical" | "crit" => Severity::Critical,
            "high" | "error" | "important" => Severity::High,
            "medium" | "moderate" | "warning" | "med" => Severity::Medium,
            "low" => Severity::Low,
            "info" | "informational" | "information" | "note" | "none" | "negligible" | "unknown" => Severity::Info,
            _ => {
                return Err(SeverityError { value: s.to_string() });
            }
        };
        Ok(severity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvss_score_boundaries() {
        let cases = [
            (0.0, Severity::Info),
            (0.1, Severity::Low),
            (3.9, Severity::Low),
            (4.0, Severity::Medium),
            (6.9, Severity::Medium),
            (7.0, Severity::High),
            (8.9, Severity::High),
            (9.0, Severity::Critical),
            (10.0, Severity::Critical),
        ];
        for (score, expected) in cases {
            assert_eq!(Severity::from_cvss_score(score), expected, "score {score}");
        }
    }

    #[test]
    fn parse_tool_words() {
        assert_eq!("MODERATE".parse::<Severity>().unwrap(), Severity::Medium);
        assert_eq!("Negligible".parse::<Severity>().unwrap(), Severity::Info);
        assert_eq!(" error ".parse::<Severity>().unwrap(), Severity::High);
    }

    #[test]
    fn parse_rejects_unknown_word() {
        let error = "severe".parse::<Severity>().unwrap_err();
        assert!(error.to_string().contains("\"severe\""));
    }

    #[test]
    fn order_is_low_to_high() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low > Severity::Info);
    }
}
