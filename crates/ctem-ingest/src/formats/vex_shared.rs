//! Helpers that the VEX readers share (OpenVEX, CSAF, and the CycloneDX
//! parsers for documents that are VEX statements).

use std::str::FromStr;

use ctem_model::{Cpe, ProductId, Purl, VexProduct, VexSource, VexStatement, VexStatus, VulnerabilityId};

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

/// The component that a CycloneDX document describes (`metadata.component`),
/// which the `affects` of a VEX document often name by its `bom-ref`.
#[derive(Debug, Clone, Default)]
pub(crate) struct CycloneDxSubject {
    pub bom_ref: Option<String>,
    pub name: String,
    pub version: Option<String>,
    pub purl: Option<Purl>,
}

/// One `affects[].versions[]` entry: an exact version or a `vers:` range.
#[derive(Debug, Clone, Default)]
pub(crate) struct AffectedVersion {
    pub version: Option<String>,
    pub range: Option<String>,
}

/// Returns the products that a CycloneDX `affects[].ref` names when it is no
/// component of the document: the subject (by its `bom-ref`), the purl of a
/// BOM-link (`urn:cdx:serial/version#purl`) or a bare purl, or else the ref
/// itself as a reference. Each listed version gives one product; without
/// versions the product is the one the ref names.
pub(crate) fn cyclonedx_products(
    reference: &str,
    subject: Option<&CycloneDxSubject>,
    versions: &[AffectedVersion],
) -> Vec<VexProduct> {
    let reference = reference.trim();
    let subject = subject.filter(|s| s.bom_ref.as_deref().map(str::trim) == Some(reference));
    let base = match subject {
        Some(subject) => match &subject.purl {
            Some(purl) => ProductId::Purl { purl: purl.clone() },
            None => ProductId::Name {
                name: subject.name.clone(),
                version: subject.version.clone(),
            },
        },
        None => {
            let fragment = reference
                .strip_prefix("urn:cdx:")
                .and_then(|link| link.split_once('#'))
                .map_or(reference, |(_, fragment)| fragment);
            match product_id(fragment) {
                Some(id @ ProductId::Purl { .. }) => id,
                _ => ProductId::Reference {
                    reference: reference.to_string(),
                },
            }
        }
    };
    if versions.is_empty() {
        return vec![VexProduct::new(base)];
    }

    let mut products: Vec<VexProduct> = Vec::new();
    for entry in versions {
        let product = match (
            entry.version.as_deref().map(str::trim),
            entry.range.as_deref().map(str::trim),
        ) {
            (Some(version), _) if !version.is_empty() => VexProduct::new(with_version(&base, version)),
            (_, Some(range)) if !range.is_empty() => {
                let mut product = VexProduct::new(without_version(&base));
                product.version_range = Some(range.to_string());
                product
            }
            _ => continue,
        };
        if !products.contains(&product) {
            products.push(product);
        }
    }
    if products.is_empty() {
        products.push(VexProduct::new(base));
    }
    products
}

/// Returns the identifier pinned to a version. A reference stays as it is,
/// because it names one thing already.
fn with_version(id: &ProductId, version: &str) -> ProductId {
    match id {
        ProductId::Purl { purl } => purl_with_version(purl, version)
            .map(|purl| ProductId::Purl { purl })
            .unwrap_or_else(|| id.clone()),
        ProductId::Name { name, .. } => ProductId::Name {
            name: name.clone(),
            version: Some(version.to_string()),
        },
        other => other.clone(),
    }
}

/// Returns the identifier without its version, for a product named by a
/// version range.
fn without_version(id: &ProductId) -> ProductId {
    match id {
        ProductId::Purl { purl } => {
            let unversioned = packageurl::PackageUrl::from_str(purl.as_str())
                .ok()
                .and_then(|mut parsed| {
                    parsed.without_version();
                    parsed.to_string().parse().ok()
                });
            unversioned
                .map(|purl| ProductId::Purl { purl })
                .unwrap_or_else(|| id.clone())
        }
        ProductId::Name { name, .. } => ProductId::Name {
            name: name.clone(),
            version: None,
        },
        other => other.clone(),
    }
}

/// What a CycloneDX vulnerability states besides its products.
#[derive(Debug, Clone, Default)]
pub(crate) struct CycloneDxAnalysis<'a> {
    pub id: &'a str,
    pub aliases: Vec<&'a str>,
    pub state: &'a str,
    pub justification: Option<&'a str>,
    pub responses: Vec<&'a str>,
    pub detail: Option<&'a str>,
    pub recommendation: Option<&'a str>,
    /// `analysis.lastUpdated`, `analysis.firstIssued`, the vulnerability's
    /// `updated`, then the document's `metadata.timestamp`: the first valid one wins.
    pub timestamps: Vec<&'a str>,
}

/// Builds the statement of a CycloneDX vulnerability with an analysis, or
/// `None` where its id or state is no VEX (a state CycloneDX does not
/// define, an id with whitespace) or it names no product.
///
/// The analysis `detail` is the impact statement of NotAffected, the action
/// statement of Affected (unless a `recommendation` is there) and a status
/// note otherwise. The responses, and a justification that was mapped to
/// another word, are kept in the status notes.
pub(crate) fn cyclonedx_statement(
    analysis: &CycloneDxAnalysis<'_>,
    products: Vec<VexProduct>,
    source: VexSource,
) -> Option<VexStatement> {
    let (status, state_justification) = cyclonedx_status(analysis.state)?;
    let id: VulnerabilityId = analysis.id.parse().ok()?;
    let mut statement = VexStatement::new(id, status, products, source).ok()?;
    for alias in &analysis.aliases {
        if let Ok(alias) = alias.parse() {
            statement = statement.with_alias(alias);
        }
    }

    let mut notes: Vec<String> = Vec::new();
    let written = analysis.justification.map(str::trim).filter(|j| !j.is_empty());
    let justification = state_justification.or_else(|| written.map(|j| cyclonedx_justification(j).unwrap_or(j)));
    if let Some(justification) = justification {
        statement = statement.with_justification(justification);
    }
    if let Some(written) = written
        && justification != Some(written)
    {
        notes.push(format!("CycloneDX justification: {written}"));
    }

    let detail = analysis.detail.map(str::trim).filter(|d| !d.is_empty());
    let recommendation = analysis.recommendation.map(str::trim).filter(|r| !r.is_empty());
    match (status, detail) {
        (VexStatus::NotAffected, Some(detail)) => statement = statement.with_impact_statement(detail),
        (VexStatus::Affected, Some(detail)) if recommendation.is_none() => {
            statement = statement.with_action_statement(detail)
        }
        (_, Some(detail)) => notes.insert(0, detail.to_string()),
        (_, None) => {}
    }
    if let Some(recommendation) = recommendation {
        statement = statement.with_action_statement(recommendation);
    }
    let responses: Vec<&str> = analysis
        .responses
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .collect();
    if !responses.is_empty() {
        notes.push(format!("Responses: {}", responses.join(", ")));
    }
    if !notes.is_empty() {
        statement = statement.with_status_notes(&notes.join("\n"));
    }

    let timestamp = analysis
        .timestamps
        .iter()
        .map(|t| t.trim())
        .find(|t| ctem_model::is_rfc3339(t));
    if let Some(timestamp) = timestamp {
        statement = statement.with_timestamp(timestamp).ok()?;
    }
    Some(statement)
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
