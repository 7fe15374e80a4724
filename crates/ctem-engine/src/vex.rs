//! Applying VEX statements to the findings of a run.
//!
//! A statement matches a finding when one of the finding's vulnerability
//! ids equals the statement's vulnerability or one of its aliases, and one
//! of its products matches the finding's component or asset:
//!
//! - a purl matches by type, namespace and name, ignoring qualifiers and
//!   subpath (case does not matter); a purl without version matches every
//!   version. An OCI purl (`pkg:oci/name@sha256:...`) also matches an image
//!   by its digest, or without a version by its repository name;
//! - a CPE matches a component or asset by its product part and version
//!   (a CPE version of `*` or `-` matches every version), and an asset's
//!   `cpe` identifier by vendor, product and version;
//! - a name matches a component or asset by name (case does not matter) and
//!   version, where the statement gives one;
//! - a reference matches an asset that has the same identifier;
//! - a product with subcomponents matches when a subcomponent matches the
//!   finding's component and the product matches the finding's asset or an
//!   asset it contains (a `Contains` relationship of the inventory);
//! - a product named by a version range (a CycloneDX `vers:` range, a CSAF
//!   `product_version_range`) matches as its identifier does, and only
//!   where the version of the component or asset is in the range.
//!   [`range`] gives the syntax and the version order of each ecosystem. A
//!   range that cannot be read matches nothing and gives a warning in the
//!   [`VexSummary`]; so does a component version that the range's scheme
//!   cannot read.
//!
//! When several statements match a finding, the one with the latest
//! timestamp wins, and a statement without one loses to any dated one. On
//! a tie, the one whose matching product names a version or a range wins
//! over one that names every version, then the one read last. The winner sets the finding's `source_status` and the
//! attributes `vex_status`, `vex_justification`, `vex_impact_statement`,
//! `vex_action_statement` and `vex_source` (the document's path and id).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ctem_model::{
    Asset, AssetKey, Component, Cpe, Finding, ProductId, Purl, RelationshipKind, VexProduct, VexStatement,
};

use crate::inventory::Inventory;

pub mod range;

use range::VersRange;

/// The counts of one run's VEX statements and of the findings they
/// changed, and the problems met on the way.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct VexSummary {
    /// The statements that the run's reports gave.
    pub statements: usize,
    /// The findings whose status a statement set.
    pub findings: usize,
    /// Products that could match nothing, one line each: a version range
    /// that cannot be read, with the document and the vulnerability.
    pub warnings: Vec<String>,
}

/// Sets the status of every finding that a statement matches, with the
/// winning statement recorded in the finding's attributes.
pub fn apply(statements: &[VexStatement], findings: &mut [Finding], inventory: &Inventory) -> VexSummary {
    let mut summary = VexSummary {
        statements: statements.len(),
        findings: 0,
        warnings: range_warnings(statements),
    };
    if statements.is_empty() {
        return summary;
    }

    let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, statement) in statements.iter().enumerate() {
        for id in statement.vulnerability_ids() {
            let entry = by_id.entry(id.as_str()).or_default();
            if entry.last() != Some(&index) {
                entry.push(index);
            }
        }
    }
    let timestamps: Vec<Option<DateTime<Utc>>> = statements.iter().map(timestamp).collect();
    let contained = contains_index(inventory);

    for finding in findings.iter_mut() {
        let mut candidates: Vec<usize> = finding
            .vulnerability_ids
            .iter()
            .filter_map(|id| by_id.get(id.as_str()))
            .flatten()
            .copied()
            .collect();
        if candidates.is_empty() {
            continue;
        }
        candidates.sort_unstable();
        candidates.dedup();

        let context = FindingContext {
            component: finding.component.as_ref(),
            asset: inventory.assets.get(&finding.asset),
            contained: contained.get(&finding.asset).map(Vec::as_slice).unwrap_or_default(),
        };
        let winner = candidates
            .into_iter()
            .filter_map(|index| {
                let versioned = statement_match(&statements[index], &context)?;
                Some(((timestamps[index], versioned, index), index))
            })
            .max_by(|(a, _), (b, _)| a.cmp(b))
            .map(|(_, index)| index);
        if let Some(index) = winner {
            record(finding, &statements[index]);
            summary.findings += 1;
        }
    }
    summary
}

/// Returns one warning per product whose version range cannot be read,
/// and logs each.
pub fn range_warnings(statements: &[VexStatement]) -> Vec<String> {
    let mut warnings = Vec::new();
    for statement in statements {
        for product in statement.products() {
            let Some(Err(error)) = product.version_range.as_deref().map(str::parse::<VersRange>) else {
                continue;
            };
            let warning = format!(
                "{}: the statement about {} for {} matches nothing: {error}",
                statement.source(),
                statement.vulnerability(),
                product.id
            );
            tracing::warn!(source = %statement.source(), vulnerability = %statement.vulnerability(), "{warning}");
            if !warnings.contains(&warning) {
                warnings.push(warning);
            }
        }
    }
    warnings
}

/// The parts of a finding that products match against.
#[derive(Debug, Clone, Copy)]
pub struct FindingContext<'a> {
    pub component: Option<&'a Component>,
    /// The finding's asset, as the inventory records it.
    pub asset: Option<&'a Asset>,
    /// The assets that the finding's asset contains.
    pub contained: &'a [&'a Asset],
}

/// Returns whether one of the statement's products matches, and whether
/// the best match names a version (`Some(true)`) or every version.
pub fn statement_match(statement: &VexStatement, context: &FindingContext<'_>) -> Option<bool> {
    statement
        .products()
        .iter()
        .filter_map(|product| product_match(product, context))
        .max()
}

/// Returns whether the product matches the finding, and whether the
/// identifier that matched names a version (or a range of them).
pub fn product_match(product: &VexProduct, context: &FindingContext<'_>) -> Option<bool> {
    let range = match product.version_range.as_deref() {
        // An unreadable range matches nothing; `range_warnings` reports it.
        Some(text) => Some(text.parse::<VersRange>().ok()?),
        None => None,
    };
    let range = range.as_ref();

    if product.subcomponents.is_empty() {
        let on_component = context
            .component
            .is_some_and(|c| id_matches_component_in(&product.id, range, c));
        let on_asset = context
            .asset
            .is_some_and(|a| id_matches_asset_in(&product.id, range, a));
        return (on_component || on_asset).then(|| product.id.has_version() || range.is_some());
    }

    let component = context.component?;
    let subcomponent = product
        .subcomponents
        .iter()
        .filter(|id| id_matches_component(id, component))
        .map(ProductId::has_version)
        .max()?;
    let in_product = context
        .asset
        .into_iter()
        .chain(context.contained.iter().copied())
        .any(|asset| id_matches_asset_in(&product.id, range, asset));
    in_product.then_some(subcomponent)
}

/// Returns whether a product identifier names the component.
pub fn id_matches_component(id: &ProductId, component: &Component) -> bool {
    id_matches_component_in(id, None, component)
}

/// Returns whether a product identifier names the component, at a version
/// in `range` where there is one.
fn id_matches_component_in(id: &ProductId, range: Option<&VersRange>, component: &Component) -> bool {
    let version_matches = |wanted: Option<&str>, actual: Option<&str>| version_in(wanted, range, actual);
    match id {
        ProductId::Purl { purl } => match &component.purl {
            Some(candidate) => purl_matches(purl, range, candidate),
            None => {
                let names = [
                    Some(purl.name().to_string()),
                    purl.namespace().map(|ns| format!("{ns}/{}", purl.name())),
                    purl.namespace().map(|ns| format!("{ns}:{}", purl.name())),
                ];
                names
                    .into_iter()
                    .flatten()
                    .any(|name| name.eq_ignore_ascii_case(&component.name))
                    && version_matches(purl.version(), component.version.as_deref())
            }
        },
        ProductId::Cpe { cpe } => {
            cpe.product().eq_ignore_ascii_case(&component.name)
                && version_matches(cpe.version(), component.version.as_deref())
        }
        ProductId::Name { name, version } => {
            name.eq_ignore_ascii_case(&component.name)
                && version_matches(version.as_deref(), component.version.as_deref())
        }
        ProductId::Reference { reference } => {
            component.purl.as_ref().is_some_and(|p| p.as_str() == reference) || component.name == *reference
        }
    }
}

/// Returns whether a product identifier names the asset: by one of its
/// identifiers, its key, or its name and version.
pub fn id_matches_asset(id: &ProductId, asset: &Asset) -> bool {
    id_matches_asset_in(id, None, asset)
}

/// Returns whether a product identifier names the asset, at a version in
/// `range` where there is one.
fn id_matches_asset_in(id: &ProductId, range: Option<&VersRange>, asset: &Asset) -> bool {
    let version = asset.attributes.get("version").map(String::as_str);
    let version_matches = |wanted: Option<&str>, actual: Option<&str>| version_in(wanted, range, actual);
    match id {
        ProductId::Purl { purl } => {
            let purls = asset
                .identifier_values("purl")
                .chain(std::iter::once(asset.key.identifier()))
                .filter_map(|text| text.parse::<Purl>().ok());
            for candidate in purls {
                if purl_matches(purl, range, &candidate) {
                    return true;
                }
            }
            // An image digest has no order, so a range never matches one.
            range.is_none() && purl.ty().eq_ignore_ascii_case("oci") && oci_matches(purl, asset)
        }
        ProductId::Cpe { cpe } => {
            let by_identifier = asset
                .identifier_values("cpe")
                .filter_map(|text| text.parse::<Cpe>().ok())
                .any(|candidate| {
                    candidate.vendor().eq_ignore_ascii_case(cpe.vendor())
                        && candidate.product().eq_ignore_ascii_case(cpe.product())
                        && version_matches(cpe.version(), candidate.version())
                });
            by_identifier
                || (cpe.product().eq_ignore_ascii_case(&asset.name) && version_matches(cpe.version(), version))
        }
        ProductId::Name { name, version: wanted } => {
            name.eq_ignore_ascii_case(&asset.name) && version_matches(wanted.as_deref(), version)
        }
        ProductId::Reference { reference } => {
            asset.key.as_str() == reference
                || asset.key.identifier() == reference
                || asset.identifiers.iter().any(|(_, value)| value == reference)
        }
    }
}

/// Compares two purls by type, namespace, name and (where the product
/// gives one) version or range, ignoring qualifiers and subpath.
fn purl_matches(product: &Purl, range: Option<&VersRange>, candidate: &Purl) -> bool {
    product.ty().eq_ignore_ascii_case(candidate.ty())
        && product.name().eq_ignore_ascii_case(candidate.name())
        && product
            .namespace()
            .unwrap_or_default()
            .eq_ignore_ascii_case(candidate.namespace().unwrap_or_default())
        && version_in(product.version(), range, candidate.version())
}

/// Matches an OCI purl to a container image: by digest (an `image_digest`
/// identifier written `sha256:...` or `name@sha256:...`), or without a
/// version by the last segment of the image's repository.
fn oci_matches(purl: &Purl, asset: &Asset) -> bool {
    match purl.version() {
        Some(digest) => asset
            .identifier_values("image_digest")
            .any(|value| value.rsplit('@').next() == Some(digest)),
        None => {
            let reference = asset.key.identifier();
            let repository = reference.split('@').next().unwrap_or(reference);
            // A tag follows the last colon after the last slash.
            let last = repository.rsplit('/').next().unwrap_or(repository);
            let name = last.split(':').next().unwrap_or(last);
            name.eq_ignore_ascii_case(purl.name())
        }
    }
}

/// Returns whether `actual` is the expected version (where there is one)
/// and in the range (where there is one). A range needs a version.
fn version_in(wanted: Option<&str>, range: Option<&VersRange>, actual: Option<&str>) -> bool {
    version_matches(wanted, actual) && range.is_none_or(|range| actual.is_some_and(|actual| range.contains(actual)))
}

/// A wanted version of `None` matches every version; otherwise the
/// versions must be equal.
fn version_matches(wanted: Option<&str>, actual: Option<&str>) -> bool {
    match wanted {
        None => true,
        Some(wanted) => actual.is_some_and(|actual| actual.trim() == wanted.trim()),
    }
}

fn timestamp(statement: &VexStatement) -> Option<DateTime<Utc>> {
    let text = statement.timestamp()?;
    DateTime::parse_from_rfc3339(text).ok().map(|t| t.with_timezone(&Utc))
}

/// Returns, for each asset, the assets it contains.
fn contains_index(inventory: &Inventory) -> HashMap<&AssetKey, Vec<&Asset>> {
    let mut index: HashMap<&AssetKey, Vec<&Asset>> = HashMap::new();
    for relationship in &inventory.relationships {
        if relationship.kind != RelationshipKind::Contains {
            continue;
        }
        if let Some(asset) = inventory.assets.get(&relationship.to) {
            index.entry(&relationship.from).or_default().push(asset);
        }
    }
    index
}

/// Sets the finding's status from the statement and records why.
fn record(finding: &mut Finding, statement: &VexStatement) {
    finding.source_status = Some(statement.status().source_status());
    let attributes = [
        ("vex_status", Some(statement.status().as_str())),
        ("vex_justification", statement.justification()),
        ("vex_impact_statement", statement.impact_statement()),
        ("vex_action_statement", statement.action_statement()),
    ];
    for (name, value) in attributes {
        match value {
            Some(value) => finding.attributes.insert(name.to_string(), value.to_string()),
            None => finding.attributes.remove(name),
        };
    }
    finding
        .attributes
        .insert("vex_source".to_string(), statement.source().to_string());
}

#[cfg(test)]
mod tests {
    use ctem_model::{AssetKind, FindingKind, Relationship, Severity, SourceStatus, VexSource, VexStatus};

    use super::*;

    fn purl(text: &str) -> ProductId {
        ProductId::Purl {
            purl: text.parse().unwrap(),
        }
    }

    fn name(name: &str, version: Option<&str>) -> ProductId {
        ProductId::Name {
            name: name.into(),
            version: version.map(str::to_string),
        }
    }

    fn component(text: &str) -> Component {
        let purl: Purl = text.parse().unwrap();
        Component {
            name: purl.name().to_string(),
            version: purl.version().map(str::to_string),
            ecosystem: Some(purl.ty().to_string()),
            purl: Some(purl),
        }
    }

    fn statement(id: &str, status: VexStatus, products: Vec<VexProduct>, timestamp: Option<&str>) -> VexStatement {
        let mut source = VexSource::new("openvex-json", "vex.json");
        source.document_id = Some("https://vex.acme.example/docs/1".into());
        let statement = VexStatement::new(id.parse().unwrap(), status, products, source).unwrap();
        match timestamp {
            Some(timestamp) => statement.with_timestamp(timestamp).unwrap(),
            None => statement,
        }
    }

    fn finding(id: &str, component_purl: &str, asset: &AssetKey) -> Finding {
        let mut finding = Finding::new(
            "trivy",
            id,
            FindingKind::Vulnerability,
            id,
            Severity::High,
            asset.clone(),
        );
        finding.add_vulnerability_id(id.parse().unwrap());
        finding.component = Some(component(component_purl));
        finding
    }

    fn image_inventory() -> (Inventory, AssetKey) {
        let mut inventory = Inventory::default();
        let mut image = Asset::new(
            AssetKind::ContainerImage,
            "registry.acme.example/storefront:4.2",
            "storefront",
        );
        image.add_identifier("image_digest", "registry.acme.example/storefront@sha256:abc123");
        let key = image.key.clone();
        inventory.add_asset(image);
        let library = Asset::new(
            AssetKind::Component,
            "pkg:maven/com.acme/gateway-client@2.0.0",
            "gateway-client",
        )
        .with_identifier("purl", "pkg:maven/com.acme/gateway-client@2.0.0");
        let library_key = library.key.clone();
        inventory.add_asset(library);
        inventory.add_relationship(Relationship::new(key.clone(), RelationshipKind::Contains, library_key));
        (inventory, key)
    }

    fn context<'a>(component: &'a Component, asset: Option<&'a Asset>) -> FindingContext<'a> {
        FindingContext {
            component: Some(component),
            asset,
            contained: &[],
        }
    }

    #[test]
    fn purl_ignores_qualifiers_and_subpath() {
        let log4j = component("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar");
        let id = purl("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?classifier=sources#lib");
        assert!(id_matches_component(&id, &log4j));
    }

    #[test]
    fn purl_without_version_matches_any() {
        let log4j = component("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1");
        assert!(id_matches_component(
            &purl("pkg:maven/org.apache.logging.log4j/log4j-core"),
            &log4j
        ));
        assert!(!id_matches_component(
            &purl("pkg:maven/org.apache.logging.log4j/log4j-core@2.17.1"),
            &log4j
        ));
        assert!(!id_matches_component(&purl("pkg:maven/org.example/log4j-core"), &log4j));
        assert!(!id_matches_component(&purl("pkg:npm/log4j-core"), &log4j));
    }

    #[test]
    fn purl_matches_component_without_purl() {
        let plain = Component {
            name: "org.apache.commons:commons-text".into(),
            version: Some("1.9".into()),
            ..Component::default()
        };
        assert!(id_matches_component(
            &purl("pkg:maven/org.apache.commons/commons-text@1.9"),
            &plain
        ));
        assert!(!id_matches_component(
            &purl("pkg:maven/org.apache.commons/commons-text@1.10.0"),
            &plain
        ));
    }

    #[test]
    fn cpe_and_name_match_component() {
        let openssl = component("pkg:apk/alpine/openssl@3.0.8-r0");
        let cpe = ProductId::Cpe {
            cpe: "cpe:2.3:a:openssl:openssl:3.0.8-r0:*:*:*:*:*:*:*".parse().unwrap(),
        };
        assert!(id_matches_component(&cpe, &openssl));
        let any = ProductId::Cpe {
            cpe: "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*".parse().unwrap(),
        };
        assert!(id_matches_component(&any, &openssl));
        assert!(id_matches_component(&name("OpenSSL", Some("3.0.8-r0")), &openssl));
        assert!(id_matches_component(&name("openssl", None), &openssl));
        assert!(!id_matches_component(&name("openssl", Some("3.1.0")), &openssl));
    }

    #[test]
    fn oci_purl_matches_image_by_digest() {
        let (inventory, key) = image_inventory();
        let image = &inventory.assets[&key];
        assert!(id_matches_asset(&purl("pkg:oci/storefront@sha256%3Aabc123"), image));
        assert!(!id_matches_asset(&purl("pkg:oci/storefront@sha256%3Adef456"), image));
        assert!(id_matches_asset(&purl("pkg:oci/storefront"), image));
        assert!(!id_matches_asset(&purl("pkg:oci/gateway"), image));
    }

    #[test]
    fn name_matches_asset_version() {
        let mut asset = Asset::new(AssetKind::Repository, "storefront", "storefront");
        asset.attributes.insert("version".into(), "4.2".into());
        assert!(id_matches_asset(&name("Storefront", Some("4.2")), &asset));
        assert!(id_matches_asset(&name("storefront", None), &asset));
        assert!(!id_matches_asset(&name("storefront", Some("4.1")), &asset));
    }

    #[test]
    fn reference_matches_identifier_only() {
        let asset = Asset::new(AssetKind::Other, "acme-gateway", "gateway")
            .with_identifier("bom_link", "urn:cdx:240b5b0b/1#acme-gateway");
        let reference = |text: &str| ProductId::Reference { reference: text.into() };
        assert!(id_matches_asset(&reference("urn:cdx:240b5b0b/1#acme-gateway"), &asset));
        assert!(id_matches_asset(&reference("acme-gateway"), &asset));
        assert!(!id_matches_asset(&reference("gateway-2"), &asset));
    }

    #[test]
    fn subcomponent_needs_product_on_asset() {
        let (inventory, key) = image_inventory();
        let image = &inventory.assets[&key];
        let log4j = component("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1");
        let mut product = VexProduct::new(purl("pkg:oci/storefront@sha256%3Aabc123"));
        product
            .subcomponents
            .push(purl("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"));

        assert_eq!(product_match(&product, &context(&log4j, Some(image))), Some(true));

        let other_image = Asset::new(
            AssetKind::ContainerImage,
            "registry.acme.example/gateway:1.0",
            "gateway",
        );
        assert_eq!(product_match(&product, &context(&log4j, Some(&other_image))), None);

        let other_component = component("pkg:maven/org.apache.commons/commons-text@1.9");
        assert_eq!(product_match(&product, &context(&other_component, Some(image))), None);
    }

    #[test]
    fn subcomponent_of_contained_package() {
        let (inventory, key) = image_inventory();
        let image = &inventory.assets[&key];
        let index = contains_index(&inventory);
        let log4j = component("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1");
        let mut product = VexProduct::new(purl("pkg:maven/com.acme/gateway-client@2.0.0"));
        product
            .subcomponents
            .push(purl("pkg:maven/org.apache.logging.log4j/log4j-core"));
        let with_contained = FindingContext {
            component: Some(&log4j),
            asset: Some(image),
            contained: &index[&key],
        };
        assert_eq!(
            product_match(&product, &with_contained),
            Some(false),
            "matched without version"
        );
        assert_eq!(product_match(&product, &context(&log4j, Some(image))), None);
    }

    fn ranged(id: ProductId, range: &str) -> VexProduct {
        let mut product = VexProduct::new(id);
        product.version_range = Some(range.into());
        product
    }

    #[test]
    fn range_matches_component_version() {
        let product = ranged(
            purl("pkg:maven/org.apache.logging.log4j/log4j-core"),
            "vers:maven/>=2.0|<2.15.0",
        );
        let cases = [
            ("2.14.1", Some(true)),
            ("2.0", Some(true)),
            ("2.15.0", None),
            ("1.2.17", None),
            ("2.17.1", None),
        ];
        for (version, expected) in cases {
            let log4j = component(&format!("pkg:maven/org.apache.logging.log4j/log4j-core@{version}"));
            assert_eq!(product_match(&product, &context(&log4j, None)), expected, "{version}");
        }
        let other = component("pkg:maven/org.apache.commons/commons-text@2.1");
        assert_eq!(product_match(&product, &context(&other, None)), None, "another package");
    }

    #[test]
    fn range_on_name_and_asset() {
        let product = ranged(name("storefront", None), "vers:generic/<4.3");
        let mut asset = Asset::new(AssetKind::Repository, "storefront", "storefront");
        let lodash = component("pkg:npm/lodash@4.17.20");
        asset.attributes.insert("version".into(), "4.2".into());
        assert_eq!(product_match(&product, &context(&lodash, Some(&asset))), Some(true));
        asset.attributes.insert("version".into(), "4.3.0".into());
        assert_eq!(product_match(&product, &context(&lodash, Some(&asset))), None);
        asset.attributes.remove("version");
        assert_eq!(
            product_match(&product, &context(&lodash, Some(&asset))),
            None,
            "a range needs a version"
        );
    }

    #[test]
    fn unparseable_range_matches_nothing_and_warns() {
        let log4j = component("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1");
        let product = ranged(purl("pkg:maven/org.apache.logging.log4j/log4j-core"), ">=2.0 <2.15.0");
        assert_eq!(product_match(&product, &context(&log4j, None)), None);

        let (inventory, key) = image_inventory();
        let statements = vec![statement("CVE-2021-44228", VexStatus::NotAffected, vec![product], None)];
        let mut findings = vec![finding(
            "CVE-2021-44228",
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            &key,
        )];
        let summary = apply(&statements, &mut findings, &inventory);
        assert_eq!(summary.findings, 0);
        assert_eq!(findings[0].source_status, None);
        assert_eq!(summary.warnings.len(), 1);
        let warning = &summary.warnings[0];
        assert!(warning.contains("CVE-2021-44228"), "{warning}");
        assert!(warning.contains("\">=2.0 <2.15.0\""), "{warning}");
        assert!(warning.contains("vex.json"), "{warning}");
    }

    #[test]
    fn range_beats_every_version_on_tie() {
        let (inventory, key) = image_inventory();
        let at = Some("2026-03-02T09:00:00Z");
        let log4j = "pkg:maven/org.apache.logging.log4j/log4j-core";
        let broad = statement(
            "CVE-2021-44228",
            VexStatus::NotAffected,
            vec![VexProduct::new(purl(log4j))],
            at,
        );
        let within = statement(
            "CVE-2021-44228",
            VexStatus::Affected,
            vec![ranged(purl(log4j), "vers:maven/>=2.0.0|<2.15.0")],
            at,
        );
        for statements in [vec![within.clone(), broad.clone()], vec![broad, within]] {
            let mut findings = vec![finding("CVE-2021-44228", &format!("{log4j}@2.14.1"), &key)];
            let summary = apply(&statements, &mut findings, &inventory);
            assert_eq!(findings[0].source_status, Some(SourceStatus::Affected));
            assert!(summary.warnings.is_empty());
        }
    }

    #[test]
    fn apply_sets_status_and_attributes() {
        let (inventory, key) = image_inventory();
        let mut findings = vec![
            finding(
                "CVE-2021-44228",
                "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
                &key,
            ),
            finding(
                "CVE-2021-45046",
                "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
                &key,
            ),
        ];
        let statements = vec![
            statement(
                "CVE-2021-44228",
                VexStatus::NotAffected,
                vec![VexProduct::new(purl("pkg:maven/org.apache.logging.log4j/log4j-core"))],
                Some("2026-03-02T09:00:00Z"),
            )
            .with_justification("vulnerable_code_not_in_execute_path")
            .with_impact_statement("No JNDI lookups."),
        ];
        let summary = apply(&statements, &mut findings, &inventory);
        assert_eq!(
            summary,
            VexSummary {
                statements: 1,
                findings: 1,
                warnings: Vec::new(),
            }
        );

        let matched = &findings[0];
        assert_eq!(matched.source_status, Some(SourceStatus::NotAffected));
        assert_eq!(matched.attributes["vex_status"], "not_affected");
        assert_eq!(
            matched.attributes["vex_justification"],
            "vulnerable_code_not_in_execute_path"
        );
        assert_eq!(matched.attributes["vex_impact_statement"], "No JNDI lookups.");
        assert_eq!(
            matched.attributes["vex_source"],
            "vex.json (https://vex.acme.example/docs/1)"
        );
        assert!(!matched.attributes.contains_key("vex_action_statement"));

        assert_eq!(findings[1].source_status, None, "another CVE");
        assert!(findings[1].attributes.is_empty());
    }

    #[test]
    fn alias_matches_finding_id() {
        let (inventory, key) = image_inventory();
        let mut findings = vec![finding(
            "GHSA-jfh8-c2jp-5v3q",
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
            &key,
        )];
        let statements = vec![
            statement(
                "CVE-2021-44228",
                VexStatus::Fixed,
                vec![VexProduct::new(purl(
                    "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
                ))],
                None,
            )
            .with_alias("GHSA-jfh8-c2jp-5v3q".parse().unwrap()),
        ];
        apply(&statements, &mut findings, &inventory);
        assert_eq!(findings[0].source_status, Some(SourceStatus::Fixed));
    }

    #[test]
    fn latest_statement_wins() {
        let (inventory, key) = image_inventory();
        let log4j = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1";
        let product = || vec![VexProduct::new(purl(log4j))];
        let statements = vec![
            statement(
                "CVE-2021-44228",
                VexStatus::NotAffected,
                product(),
                Some("2026-03-05T00:00:00+01:00"),
            ),
            statement(
                "CVE-2021-44228",
                VexStatus::Affected,
                product(),
                Some("2026-03-04T23:30:00Z"),
            ),
            statement("CVE-2021-44228", VexStatus::Fixed, product(), None),
        ];
        let mut findings = vec![finding("CVE-2021-44228", log4j, &key)];
        apply(&statements, &mut findings, &inventory);
        assert_eq!(
            findings[0].source_status,
            Some(SourceStatus::Affected),
            "23:30 UTC is later than midnight at +01:00, though its date is earlier"
        );
    }

    #[test]
    fn specific_product_wins_tie() {
        let (inventory, key) = image_inventory();
        let log4j = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1";
        let at = Some("2026-03-02T09:00:00Z");
        let specific = statement(
            "CVE-2021-44228",
            VexStatus::Affected,
            vec![VexProduct::new(purl(log4j))],
            at,
        );
        let broad = statement(
            "CVE-2021-44228",
            VexStatus::NotAffected,
            vec![VexProduct::new(purl("pkg:maven/org.apache.logging.log4j/log4j-core"))],
            at,
        );
        for statements in [vec![specific.clone(), broad.clone()], vec![broad, specific]] {
            let mut findings = vec![finding("CVE-2021-44228", log4j, &key)];
            apply(&statements, &mut findings, &inventory);
            assert_eq!(findings[0].source_status, Some(SourceStatus::Affected));
        }
    }

    #[test]
    fn later_statement_replaces_attributes() {
        let (inventory, key) = image_inventory();
        let log4j = "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1";
        let mut findings = vec![finding("CVE-2021-44228", log4j, &key)];
        findings[0]
            .attributes
            .insert("vex_justification".into(), "component_not_present".into());
        let statements = vec![statement(
            "CVE-2021-44228",
            VexStatus::Affected,
            vec![VexProduct::new(purl(log4j))],
            None,
        )];
        apply(&statements, &mut findings, &inventory);
        assert_eq!(findings[0].attributes["vex_status"], "affected");
        assert!(!findings[0].attributes.contains_key("vex_justification"));
    }
}
