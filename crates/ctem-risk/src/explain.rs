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
    const ORDER: [&str; 17] = [
        "source_status",
        "policy",
        "kev",
        "sighting",
        "exploit",
        "finding_kind",
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
        "policy" => Some(policy_phrase(value)),
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
        // The kind is a factor only where no CVSS vector scored the finding.
        // A leaked secret counts as public-PoC exploitation in the tier. A
        // code or web weakness, a misconfiguration or an exposed service
        // gets its likelihood from its kind, so the sentence names it. A
        // vulnerability without a vector adds nothing to its other parts.
        "finding_kind" if value.starts_with("secret,") => Some("leaked secret".to_string()),
        "finding_kind" if value.starts_with("vulnerability,") => None,
        "finding_kind" => value.split(", severity").next().map(str::to_string),
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
        "attack_path" => Some(attack_path_phrase(value)),
        "choke_point" => Some("choke point".to_string()),
        "compensating_controls" => Some(format!("mitigated by {value}")),
        "blast_radius" => Some(blast_radius_phrase(value)),
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

// The sentence separates its parts with commas, so a part that lists
// several items puts them in brackets, where a reader cannot take one for
// a part of its own.

/// Renders a policy factor, `data/ctem/RULE: REASON`, as `policy raise:
/// REASON`, or as `policy tier P4: REASON` for the tier rule, whose value
/// starts with the tier.
fn policy_phrase(value: &str) -> String {
    let rule = value.strip_prefix("data/ctem/").unwrap_or(value);
    if let Some(rest) = rule.strip_prefix("tier: ")
        && let Some((tier, reason)) = rest.split_once(", ")
    {
        return format!("policy tier {tier}: {reason}");
    }
    format!("policy {rule}")
}

/// Renders an attack path factor, `N paths to A, B, best probability P`,
/// without the probability and with several crown jewels in brackets.
fn attack_path_phrase(value: &str) -> String {
    let paths = value.split(", best probability").next().unwrap_or(value);
    match paths.split_once(" to ") {
        Some((count, jewels)) if jewels.contains(", ") => format!("{count} to crown jewels ({jewels})"),
        _ => paths.to_string(),
    }
}

/// Renders a blast radius factor, `4 crown jewels, 12 assets` or `12
/// assets`. The assets include the crown jewels, so the crown jewels go in
/// brackets after them: `reaches 12 assets (4 crown jewels)`.
fn blast_radius_phrase(value: &str) -> String {
    match value.split_once(", ") {
        Some((jewels, assets)) => format!("reaches {assets} ({jewels})"),
        None => format!("reaches {value}"),
    }
}

/// Writes a probability with two decimals from 0.1 up, and with two
/// significant digits below, so that close small values such as EPSS
/// 0.019 and 0.015 stay apart and none reads `0.00`. A value below 1 keeps
/// the decimals that tell it from 1 (`0.999`, not `1.00`), since a score
/// of 1 reads as certain exploitation.
fn probability_text(probability: f64) -> String {
    if !probability.is_finite() {
        return "unknown".to_string();
    }
    if (0.1..1.0).contains(&probability) {
        for decimals in 2..=6 {
            let text = format!("{probability:.decimals$}");
            if !text.starts_with("1.") {
                return text;
            }
        }
        return "0.999999".to_string();
    }
    if probability >= 0.1 || probability <= 0.0 {
        return format!("{probability:.2}");
    }

    // The exponent of the value rounded to two significant digits, which
    // is one higher than that of the value when rounding carries, as
    // 0.0999 rounds to 1.0e-1.
    let scientific = format!("{probability:.1e}");
    let exponent: i32 = scientific
        .split_once('e')
        .and_then(|(_, exponent)| exponent.parse().ok())
        .unwrap_or(-1);
    if exponent >= -1 {
        return format!("{probability:.2}");
    }
    let decimals = exponent.unsigned_abs() as usize + 1;
    format!("{probability:.decimals$}")
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
    fn lists_inside_parts_stay_apart() {
        let assessment = risk(vec![
            factor(
                "attack_path",
                "15 paths to Payment exports, Payments database, Shop front, best probability 0.54",
                "attack graph",
                Some(0.54),
                None,
            ),
            factor("choke_point", "leads into a choke point", "attack graph", None, None),
            factor(
                "blast_radius",
                "4 crown jewels, 12 assets",
                "attack graph",
                Some(0.2),
                None,
            ),
            factor("asset_criticality", "crown jewel", "configuration", Some(1.0), None),
        ]);
        assert_eq!(
            explain(&assessment),
            "15 paths to crown jewels (Payment exports, Payments database, Shop front), choke point, \
             reaches 12 assets (4 crown jewels), crown jewel"
        );
    }

    #[test]
    fn blast_radius_without_crown_jewels() {
        let assessment = risk(vec![factor(
            "blast_radius",
            "2 assets",
            "attack graph",
            Some(0.04),
            None,
        )]);
        assert_eq!(explain(&assessment), "reaches 2 assets");
        let assessment = risk(vec![factor(
            "blast_radius",
            "1 crown jewel, 3 assets",
            "attack graph",
            Some(0.06),
            None,
        )]);
        assert_eq!(explain(&assessment), "reaches 3 assets (1 crown jewel)");
    }

    #[test]
    fn policy_tier_names_tier_then_reason() {
        let assessment = risk(vec![
            factor("policy", "data/ctem/tier: P4, lab hosts", "org.rego", None, None),
            factor(
                "policy",
                "data/ctem/raise: payment systems first",
                "org.rego",
                None,
                None,
            ),
        ]);
        assert_eq!(
            explain(&assessment),
            "policy tier P4: lab hosts, policy raise: payment systems first"
        );
    }

    #[test]
    fn leaked_secret_is_named() {
        let assessment = risk(vec![
            factor(
                "finding_kind",
                "secret, severity high",
                "gitleaks report",
                Some(0.81),
                None,
            ),
            factor("severity", "high", "gitleaks report", Some(0.8), None),
            factor("blast_radius", "2 assets", "attack graph", Some(0.04), None),
        ]);
        assert_eq!(explain(&assessment), "leaked secret, reaches 2 assets, severity high");
        let assessment = risk(vec![factor(
            "finding_kind",
            "vulnerability, severity high",
            "nmap report",
            Some(0.27),
            None,
        )]);
        assert_eq!(explain(&assessment), "");
    }

    #[test]
    fn weakness_kind_is_named() {
        let assessment = risk(vec![
            factor(
                "finding_kind",
                "code weakness, severity high",
                "semgrep report",
                Some(0.35),
                None,
            ),
            factor("severity", "high", "semgrep report", Some(0.8), None),
            factor("blast_radius", "2 assets", "attack graph", Some(0.04), None),
        ]);
        assert_eq!(explain(&assessment), "code weakness, reaches 2 assets, severity high");
        let assessment = risk(vec![factor(
            "finding_kind",
            "misconfiguration, severity medium",
            "checkov report",
            Some(0.45),
            None,
        )]);
        assert_eq!(explain(&assessment), "misconfiguration");
    }

    #[test]
    fn small_probabilities_keep_digits() {
        assert_eq!(probability_text(0.94358), "0.94");
        assert_eq!(probability_text(0.1), "0.10");
        assert_eq!(probability_text(0.0952), "0.095");
        assert_eq!(probability_text(0.01866), "0.019");
        assert_eq!(probability_text(0.01522), "0.015");
        assert_eq!(probability_text(0.01), "0.010");
        assert_eq!(probability_text(0.0053), "0.0053");
        assert_eq!(probability_text(0.00047), "0.00047");
        assert_eq!(probability_text(0.0), "0.00");
        assert_eq!(probability_text(f64::NAN), "unknown");
    }

    #[test]
    fn probabilities_rounding_up_keep_two_digits() {
        assert_eq!(probability_text(0.0999), "0.10");
        assert_eq!(probability_text(0.00999), "0.010");
        assert_eq!(probability_text(0.000999), "0.0010");
    }

    #[test]
    fn probability_below_one_never_reads_one() {
        assert_eq!(probability_text(0.994), "0.99");
        assert_eq!(probability_text(0.999), "0.999");
        assert_eq!(probability_text(0.99996), "0.99996");
        assert_eq!(probability_text(0.9999999), "0.999999");
        assert_eq!(probability_text(1.0), "1.00");
    }

    #[test]
    fn close_small_epss_scores_differ() {
        let explanation = |probability: f64| {
            let value = probability.to_string();
            explain(&risk(vec![factor(
                "epss",
                &value,
                "FIRST EPSS",
                Some(probability),
                None,
            )]))
        };
        assert_eq!(explanation(0.01866), "EPSS 0.019");
        assert_eq!(explanation(0.01522), "EPSS 0.015");
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
