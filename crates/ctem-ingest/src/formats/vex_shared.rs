//! Helpers that the VEX readers share (OpenVEX, CSAF, and the CycloneDX
//! parsers for documents that are VEX statements).

use std::str::FromStr;

use ctem_model::{Cpe, ProductId, Purl, VexStatus};

/// Returns the OpenVEX justification closest to a CycloneDX
/// `analysis.justification`, or `None` for a word CycloneDX does not define.
///
/// CycloneDX 1.4 to 1.7 define nine justifications, and no standard maps
/// them to the five of OpenVEX and CSAF. This mapping keeps the meaning:
/// code that is absent or unreachable keeps that reason, code that needs a
/// configuration, dependency or environment the product lacks cannot be
/// controlled by an adversary, and every kind of protection is a mitigation.
pub(crate) fn cyclonedx_justification(word: &str) -> Option<&'static str> {
    match word.trim() {
        "code_not_present" => Some("vulnerable_code_not_present"),
        "code_not_reachable" => Some("vulnerable_code_not_in_execute_path"),
        "requires_configuration" | "requires_dependency" | "requires_environment" => {
            Some("vulnerable_code_cannot_be_controlled_by_adversary")
        }
        "protected_by_compiler"
        | "protected_at_runtime"
        | "protected_at_perimeter"
        | "protected_by_mitigating_control" => Some("inline_mitigations_already_exist"),
        _ => None,
    }
}

/// Returns the VEX status and justification of a CycloneDX
/// `analysis.state`: `false_positive` is NotAffected with the
/// justification `false_positive`, because the vulnerability is not there.
pub(crate) fn cyclonedx_status(state: &str) -> Option<(VexStatus, Option<&'static str>)> {
    match state.trim() {
        "not_affected" => Some((VexStatus::NotAffected, None)),
        "false_positive" => Some((VexStatus::NotAffected, Some("false_positive"))),
        "resolved" | "resolved_with_pedigree" => Some((VexStatus::Fixed, None)),
        "exploitable" => Some((VexStatus::Affected, None)),
        "in_triage" => Some((VexStatus::UnderInvestigation, None)),
        _ => None,
    }
}

/// Reads a product identifier as a document wrote it: a purl, a CPE, or
/// else a reference that only matches an asset with the same identifier.
/// Returns `None` for blank text.
pub(crate) fn product_id(text: &str) -> Option<ProductId> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.starts_with("pkg:")
        && let Ok(purl) = Purl::from_str(text)
    {
        return Some(ProductId::Purl { purl });
    }
    if text.to_ascii_lowercase().starts_with("cpe:")
        && let Ok(cpe) = Cpe::from_str(text)
    {
        return Some(ProductId::Cpe { cpe });
    }
    Some(ProductId::Reference {
        reference: text.to_string(),
    })
}

/// Returns the purl with its version set, keeping its qualifiers and
/// subpath, or `None` where the result is no valid purl.
pub(crate) fn purl_with_version(purl: &Purl, version: &str) -> Option<Purl> {
    let mut parsed = packageurl::PackageUrl::from_str(purl.as_str()).ok()?;
    parsed.with_version(version.trim().to_string()).ok()?;
    parsed.to_string().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The OpenVEX justifications, which CSAF 2.0 and 2.1 use as flag labels too.
    const JUSTIFICATIONS: [&str; 5] = [
        "component_not_present",
        "vulnerable_code_not_present",
        "vulnerable_code_not_in_execute_path",
        "vulnerable_code_cannot_be_controlled_by_adversary",
        "inline_mitigations_already_exist",
    ];

    #[test]
    fn justifications_map_to_openvex() {
        for word in [
            "code_not_present",
            "code_not_reachable",
            "requires_configuration",
            "requires_dependency",
            "requires_environment",
            "protected_by_compiler",
            "protected_at_runtime",
            "protected_at_perimeter",
            "protected_by_mitigating_control",
        ] {
            let mapped = cyclonedx_justification(word).unwrap_or_else(|| panic!("{word} maps"));
            assert!(JUSTIFICATIONS.contains(&mapped), "{word} maps to {mapped}");
        }
        assert_eq!(cyclonedx_justification("because"), None);
    }

    #[test]
    fn states_map_to_statuses() {
        assert_eq!(cyclonedx_status("not_affected"), Some((VexStatus::NotAffected, None)));
        assert_eq!(
            cyclonedx_status("false_positive"),
            Some((VexStatus::NotAffected, Some("false_positive")))
        );
        assert_eq!(
            cyclonedx_status("resolved_with_pedigree"),
            Some((VexStatus::Fixed, None))
        );
        assert_eq!(cyclonedx_status("exploitable"), Some((VexStatus::Affected, None)));
        assert_eq!(
            cyclonedx_status("in_triage"),
            Some((VexStatus::UnderInvestigation, None))
        );
        assert_eq!(cyclonedx_status("unknown"), None);
    }

    #[test]
    fn product_ids_by_shape() {
        assert!(matches!(
            product_id("pkg:npm/lodash@4.17.20"),
            Some(ProductId::Purl { .. })
        ));
        assert!(matches!(
            product_id("cpe:/o:redhat:rhel_aus:7.6::server"),
            Some(ProductId::Cpe { .. })
        ));
        assert!(matches!(
            product_id("https://example.com/product/1"),
            Some(ProductId::Reference { .. })
        ));
        assert!(matches!(product_id("pkg:"), Some(ProductId::Reference { .. })));
        assert_eq!(product_id("  "), None);
    }

    #[test]
    fn purl_gets_version() {
        let purl: Purl = "pkg:maven/org.example/app?type=jar".parse().unwrap();
        let versioned = purl_with_version(&purl, "2.4").unwrap();
        assert_eq!(versioned.version(), Some("2.4"));
        assert_eq!(versioned.as_str(), "pkg:maven/org.example/app@2.4?type=jar");
    }
}
