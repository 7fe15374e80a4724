//! [`explain`]: one sentence that explains why a finding ranks where it does.

use ctem_model::{Factor, RiskAssessment};

/// Renders the factors of an assessment as one readable sentence, such as
/// `KEV since 2024-03-01, EPSS 0.94, internet-facing, 2 paths to payments-db`.
///
/// The sentence names the evidence of exploitation first, then where the
/// asset sits (exposure, attack paths, controls), then what is at stake.
/// Inputs at their defaults (unknown exposure, unclassified asset) are
/// left out, and so are factors of names this version does not know. An
/// assessment without factors gives an empty string.
pub fn explain(risk: &RiskAssessment) -> String {
    const ORDER: [&str; 16] = [
        "source_status",
        "policy",
        "kev",
        "sighting",
        "exploit",
        "epss",
        "automatable",
        "internet_exposure",
        "attack_path",
        "choke_point",
        "compensating_controls",
        "blast_radius",
        "asset_criticality",
        "data_classification",
        "cvss_impact",
        "severity",
    ];
    let mut parts = Vec::new();
    for name in ORDER {
        for factor in risk.factors.iter().filter(|factor| factor.name == name) {
            if let Some(part) = phrase(factor) {
                parts.push(part);
            }
        }
    }
    parts.join(", ")
}

/// Words for one factor, or `None` where it adds nothing a reader needs.
fn phrase(factor: &Factor) -> Option<String> {
    let value = factor.value.as_str();
    match factor.name.as_str() {
        "source_status" => Some(format!("{value} per {}", factor.source)),
        "policy" => Some(format!("policy {}", value.strip_prefix("data/ctem/").unwrap_or(value))),
        "kev" => {
            let since = factor
                .date
                .clone()
                .or_else(|| {
                    value
                        .strip_prefix("listed ")
                        .map(|rest| rest.chars().take(10).collect())
                })
                .unwrap_or_default();
            let mut part = format!("KEV since {since}");
            if value.contains("ransomware") {
                part.push_str(", used by ransomware");
            }
            Some(part)
        }
        "sighting" => Some(format!("exploitation sighted ({value})")),
        "exploit" => Some(format!("public exploit ({value})")),
        "epss" if value.starts_with("no score") => Some("no EPSS score".to_string()),
        "epss" => Some(match factor.weight {
            Some(probability) => format!("EPSS {}", probability_text(probability)),
            None => format!("EPSS {value}"),
        }),
        "automatable" => Some("automatable".to_string()),
        "internet_exposure" => match value {
            "internet-exposed" => Some("internet-facing".to_string()),
            "not internet-exposed" => Some("internal".to_string()),
            _ => None,
        },
        "attack_path" => Some(value.split(", best probability").next().unwrap_or(value).to_string()),
        "choke_point" => Some("choke point".to_string()),
        "compensating_controls" => Some(format!("mitigated by {value}")),
        "blast_radius" => Some(format!("reaches {value}")),
        "asset_criticality" if factor.source == "default" => None,
        "asset_criticality" => Some(match value {
            "crown jewel" => "crown jewel".to_string(),
            level => format!("{level} criticality"),
        }),
        "data_classification" => Some(format!("{value} data")),
        "cvss_impact" => {
            let score = value.split("base score ").nth(1)?.trim_end_matches(')');
            Some(format!("CVSS {score}"))
        }
        "severity" => Some(format!("severity {value}")),
        _ => None,
    }
}

/// Writes a probability with two decimals, or with two significant digits
/// below 0.01 so that small values do not all read `0.00`.
fn probability_text(probability: f64) -> String {
    if !probability.is_finite() {
        return "unknown".to_string();
    }
    if probability >= 0.01 || probability == 0.0 {
        return format!("{probability:.2}");
    }
    let digits = (-probability.log10()).ceil() as usize + 1;
    format!("{probability:.digits$}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctem_model::Tier;

    fn factor(name: &str, value: &str, source: &str, weight: Option<f64>, date: Option<&str>) -> Factor {
        Factor {
            name: name.into(),
            value: value.into(),
            contribution: 0.0,
            source: source.into(),
            weight,
            date: date.map(Into::into),
        }
    }

    fn risk(factors: Vec<Factor>) -> RiskAssessment {
        RiskAssessment::new(90.0, Tier::P1, 0.9, 0.9, factors)
    }

    #[test]
    fn sentence_follows_evidence_exposure_paths() {
        let assessment = risk(vec![
            factor(
                "attack_path",
                "2 paths to payments-db, best probability 0.42",
                "attack graph",
                Some(0.42),
                None,
            ),
            factor(
                "internet_exposure",
                "internet-exposed",
                "asset attribute",
                Some(1.0),
                None,
            ),
            factor(
                "epss",
                "0.94358",
                "FIRST EPSS 2025-03-14",
                Some(0.94358),
                Some("2025-03-14"),
            ),
            factor("kev", "listed 2024-03-01", "CISA KEV", Some(0.9), Some("2024-03-01")),
            factor(
                "asset_criticality",
                "unknown, default medium",
                "default",
                Some(0.6),
                None,
            ),
        ]);
        assert_eq!(
            explain(&assessment),
            "KEV since 2024-03-01, EPSS 0.94, internet-facing, 2 paths to payments-db"
        );
    }

    #[test]
    fn small_probabilities_keep_digits() {
        assert_eq!(probability_text(0.94358), "0.94");
        assert_eq!(probability_text(0.0053), "0.0053");
        assert_eq!(probability_text(0.00047), "0.00047");
        assert_eq!(probability_text(0.0), "0.00");
        assert_eq!(probability_text(f64::NAN), "unknown");
    }

    #[test]
    fn stored_factors_without_dates_explain() {
        // Assessments stored before factors had a date or a weight.
        let assessment = risk(vec![
            factor("kev", "listed 2021-12-10, known ransomware use", "CISA KEV", None, None),
            factor("epss", "0.5", "FIRST EPSS", None, None),
            factor(
                "cvss_impact",
                "1.00 (base score 10.0)",
                "CVSS v3.1 vector from trivy report",
                None,
                None,
            ),
        ]);
        assert_eq!(
            explain(&assessment),
            "KEV since 2021-12-10, used by ransomware, EPSS 0.5, CVSS 10.0"
        );
    }

    #[test]
    fn unknown_factors_and_defaults_are_left_out() {
        let assessment = risk(vec![
            factor("internet_exposure", "unknown", "default", Some(0.7), None),
            factor("something_new", "x", "y", None, None),
        ]);
        assert_eq!(explain(&assessment), "");
    }

    #[test]
    fn suppression_comes_first() {
        let assessment = risk(vec![
            factor("kev", "listed 2024-03-01", "CISA KEV", Some(0.9), Some("2024-03-01")),
            factor("source_status", "not affected", "VEX vex.json", None, None),
        ]);
        assert_eq!(
            explain(&assessment),
            "not affected per VEX vex.json, KEV since 2024-03-01"
        );
    }
}
