//! CSAF documents read as VEX: the product status that a vendor's CSAF
//! VEX profile or security advisory gives for each vulnerability.
//!
//! # Reads
//!
//! CSAF 2.0 and 2.1 JSON of every category (`csaf_vex`,
//! `csaf_security_advisory`, `csaf_base`, vendor categories): `document`
//! (`csaf_version`, `publisher.name`, `tracking.id`,
//! `tracking.current_release_date`), `product_tree` (`branches` at any
//! depth, `full_product_names`, `relationships`, 2.1 `product_paths`,
//! `product_groups`) and `vulnerabilities` (`cve`, `ids`,
//! `product_status`, `flags`, `threats`, `remediations`). A document that
//! declares CSAF 1.x (the CVRF-based format) or another 2.x version is
//! rejected with the version found.
//!
//! # Field mapping
//!
//! One [`VexStatement`] per vulnerability and product status group, sent
//! with [`Sink::vex`]. Products of one group with different flags,
//! threats or remediations get a statement each.
//!
//! | document | statement |
//! | --- | --- |
//! | `cve`, else the first valid `ids[].text` | `vulnerability` |
//! | the other `ids[].text` | `aliases` |
//! | `product_status.known_not_affected` | `status` NotAffected |
//! | `known_affected`, `first_affected`, `last_affected` | Affected |
//! | `fixed`, `first_fixed`, `recommended` (a fixed version that the vendor recommends) | Fixed |
//! | `under_investigation` | UnderInvestigation |
//! | the product ids, resolved through the product tree | `products` |
//! | `flags[].label` naming the product (NotAffected only) | `justification` |
//! | `threats[]` of category `impact` naming the product, or no product (NotAffected only) | `impact_statement` |
//! | `remediations[].details` naming the product, or no product | `action_statement` |
//! | `tracking.current_release_date` | `timestamp` |
//! | `tracking.id`, `publisher.name`, the file path | `source` |
//!
//! A product id resolves to its `product_identification_helper` purl
//! (`purls` in 2.1), else its CPE, else the `product_name` branch above
//! it with the `product_version` branch as version (a
//! `product_version_range` becomes the product's `version_range`), else
//! its full name. A relationship (2.0) or product path (2.1) is the
//! product it relates to, with the referenced product as subcomponent. A
//! product id that the tree does not define stays a reference.
//!
//! A vulnerability without `cve` and without `ids` gives no statement,
//! because no finding could match it.
//!
//! # Scope target
//!
//! None. A VEX document is no scan: it declares no scope and so closes no
//! finding. Its statements change the status of the findings of the other
//! reports of a run.
//!
//! # Fingerprint
//!
//! None: the document gives statements, not findings. The findings that a
//! statement matches keep their own fingerprint.
//!
//! # Not read yet
//!
//! Scores, CWEs, notes, references, acknowledgments, `involvements`, the
//! hashes and other helpers of the product tree, the dates of flags and
//! threats, and the CSAF 2.1 `unknown` product status.
//!
//! # Memory
//!
//! Vulnerabilities stream. The product tree is kept in memory (one entry
//! per product id), and vulnerabilities that come before the product tree
//! are kept until it is read.
//!
//! # Reference
//!
//! <https://docs.oasis-open.org/csaf/csaf/v2.0/csaf-v2.0.html> (section
//! 4.5 is the VEX profile) and
//! <https://docs.oasis-open.org/csaf/csaf/v2.1/csaf-v2.1.html>.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::BufRead;

use ctem_model::{ProductId, VexProduct, VexSource, VexStatement, VexStatus, VulnerabilityId};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::formats::vex_shared;
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "csaf-vex-json";

/// The CSAF VEX parser.
pub struct CsafVexJson;

impl Parser for CsafVexJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "CSAF VEX JSON",
            tool: "any CSAF producer (vendors' PSIRTs, Secvisogram, Red Hat, Cisco...)",
            versions: "CSAF 2.0 and 2.1",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if head.starts_with(b"{") && util::contains(head, b"\"csaf_version\"") && util::contains(head, b"\"document\"")
        {
            return Detection::Certain;
        }
        Detection::No
    }

    fn parse(
        &self,
        context: &ParseContext<'_>,
        reader: &mut dyn BufRead,
        sink: &mut dyn Sink,
    ) -> Result<(), ParseError> {
        let mut state = State {
            path: context.path,
            sink,
            source: None,
            timestamp: None,
            products: None,
        };
        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        deserializer
            .deserialize_map(RootVisitor { state: &mut state })
            .and_then(|()| deserializer.end())
            .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))
    }
}

struct State<'a> {
    path: &'a str,
    sink: &'a mut dyn Sink,
    /// Set once `document` has been read.
    source: Option<VexSource>,
    timestamp: Option<String>,
    /// Set once `product_tree` has been read (or the document ended without one).
    products: Option<ProductIndex>,
}

/// Reads the root object: `document`, `product_tree`, `vulnerabilities`.
struct RootVisitor<'s, 'a> {
    state: &'s mut State<'a>,
}

impl<'de> Visitor<'de> for RootVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a CSAF document (a JSON object with \"document\" and \"vulnerabilities\")")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut held: Vec<Vulnerability> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "document" => {
                    let document: DocumentFields = map.next_value()?;
                    self.state.start(document).map_err(de::Error::custom)?;
                }
                "product_tree" => {
                    let tree: ProductTree = map.next_value()?;
                    self.state.products = Some(ProductIndex::build(tree));
                }
                "vulnerabilities" => map.next_value_seed(VulnerabilitiesSeed {
                    state: self.state,
                    held: &mut held,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        if self.state.source.is_none() {
            return Err(de::Error::custom(
                "missing \"document\": expected a CSAF 2.0 or 2.1 document with \"document\": {\"csaf_version\": \"2.0\", ...}",
            ));
        }
        if self.state.products.is_none() {
            self.state.products = Some(ProductIndex::default());
        }
        for vulnerability in held {
            self.state.emit(vulnerability);
        }
        Ok(())
    }
}

/// Streams the `vulnerabilities` array.
struct VulnerabilitiesSeed<'s, 'a, 'h> {
    state: &'s mut State<'a>,
    held: &'h mut Vec<Vulnerability>,
}

impl<'de> DeserializeSeed<'de> for VulnerabilitiesSeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for VulnerabilitiesSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an array of vulnerabilities")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(vulnerability) = seq.next_element::<Vulnerability>()? {
            if self.state.source.is_some() && self.state.products.is_some() {
                self.state.emit(vulnerability);
            } else {
                self.held.push(vulnerability);
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// The lean shapes of a document's parts.
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DocumentFields {
    #[serde(deserialize_with = "util::loose_text")]
    csaf_version: Option<String>,
    publisher: Publisher,
    tracking: Tracking,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Publisher {
    #[serde(deserialize_with = "util::loose_text")]
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Tracking {
    #[serde(deserialize_with = "util::loose_text")]
    id: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    current_release_date: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ProductTree {
    branches: Vec<Branch>,
    full_product_names: Vec<FullProductName>,
    relationships: Vec<TreeRelationship>,
    product_paths: Vec<ProductPath>,
    product_groups: Vec<ProductGroup>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Branch {
    #[serde(deserialize_with = "util::loose_text")]
    category: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    name: Option<String>,
    product: Option<FullProductName>,
    branches: Vec<Branch>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FullProductName {
    #[serde(deserialize_with = "util::loose_text")]
    product_id: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    name: Option<String>,
    product_identification_helper: Option<Helper>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Helper {
    /// CSAF 2.0 has one purl.
    #[serde(deserialize_with = "util::loose_text")]
    purl: Option<String>,
    /// CSAF 2.1 has a list.
    purls: Vec<serde_json::Value>,
    #[serde(deserialize_with = "util::loose_text")]
    cpe: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TreeRelationship {
    #[serde(deserialize_with = "util::loose_text")]
    product_reference: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    relates_to_product_reference: Option<String>,
    full_product_name: FullProductName,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ProductPath {
    #[serde(deserialize_with = "util::loose_text")]
    beginning_product_reference: Option<String>,
    subpaths: Vec<Subpath>,
    full_product_name: FullProductName,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Subpath {
    #[serde(deserialize_with = "util::loose_text")]
    next_product_reference: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ProductGroup {
    #[serde(deserialize_with = "util::loose_text")]
    group_id: Option<String>,
    product_ids: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Vulnerability {
    #[serde(deserialize_with = "util::loose_text")]
    cve: Option<String>,
    ids: Vec<IdEntry>,
    product_status: ProductStatus,
    flags: Vec<Flag>,
    threats: Vec<Threat>,
    remediations: Vec<Remediation>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct IdEntry {
    #[serde(deserialize_with = "util::loose_text")]
    text: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ProductStatus {
    known_not_affected: Vec<String>,
    known_affected: Vec<String>,
    first_affected: Vec<String>,
    last_affected: Vec<String>,
    fixed: Vec<String>,
    first_fixed: Vec<String>,
    recommended: Vec<String>,
    under_investigation: Vec<String>,
}

/// The products (by id or by group) that a flag, threat or remediation names.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ProductScope {
    product_ids: Vec<String>,
    group_ids: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Flag {
    #[serde(deserialize_with = "util::loose_text")]
    label: Option<String>,
    #[serde(flatten)]
    scope: ProductScope,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Threat {
    #[serde(deserialize_with = "util::loose_text")]
    category: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    details: Option<String>,
    #[serde(flatten)]
    scope: ProductScope,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Remediation {
    #[serde(deserialize_with = "util::loose_text")]
    details: Option<String>,
    #[serde(flatten)]
    scope: ProductScope,
}

// ---------------------------------------------------------------------------
// The product tree as an index from product id to product.
// ---------------------------------------------------------------------------

#[derive(Debug, Default)]
struct ProductIndex {
    products: HashMap<String, VexProduct>,
    groups: HashMap<String, Vec<String>>,
}

/// The names of the branches above a product.
#[derive(Debug, Default, Clone)]
struct Ancestors {
    product_name: Option<String>,
    product_version: Option<String>,
    version_range: Option<String>,
}

impl ProductIndex {
    fn build(tree: ProductTree) -> ProductIndex {
        let mut index = ProductIndex::default();
        for branch in &tree.branches {
            index.add_branch(branch, Ancestors::default());
        }
        for product in &tree.full_product_names {
            index.add_product(product, &Ancestors::default());
        }

        // Relationships and paths name products defined above, so they come last.
        for relationship in &tree.relationships {
            index.add_composite(
                &relationship.full_product_name,
                relationship.product_reference.as_deref(),
                relationship.relates_to_product_reference.as_deref(),
            );
        }
        for path in &tree.product_paths {
            let last = path
                .subpaths
                .iter()
                .rev()
                .find_map(|subpath| subpath.next_product_reference.as_deref());
            index.add_composite(
                &path.full_product_name,
                path.beginning_product_reference.as_deref(),
                last,
            );
        }

        for group in tree.product_groups {
            if let Some(id) = util::non_empty(group.group_id.as_deref()) {
                index.groups.insert(id, group.product_ids);
            }
        }
        index
    }

    fn add_branch(&mut self, branch: &Branch, mut ancestors: Ancestors) {
        let name = util::non_empty(branch.name.as_deref());
        match branch.category.as_deref().map(str::trim) {
            Some("product_name") => ancestors.product_name = name,
            Some("product_version") => ancestors.product_version = name,
            Some("product_version_range") => ancestors.version_range = name,
            _ => {}
        }
        if let Some(product) = &branch.product {
            self.add_product(product, &ancestors);
        }
        for child in &branch.branches {
            self.add_branch(child, ancestors.clone());
        }
    }

    fn add_product(&mut self, product: &FullProductName, ancestors: &Ancestors) {
        let Some(id) = util::non_empty(product.product_id.as_deref()) else {
            return;
        };
        let mut resolved =
            VexProduct::new(identify(product, ancestors).unwrap_or(ProductId::Reference { reference: id.clone() }));
        if !matches!(resolved.id, ProductId::Purl { .. } | ProductId::Cpe { .. }) {
            resolved.version_range = ancestors.version_range.clone();
        }
        self.products.insert(id, resolved);
    }

    /// Adds the product of a relationship or product path: `component` as
    /// part of `parent`.
    fn add_composite(&mut self, product: &FullProductName, component: Option<&str>, parent: Option<&str>) {
        let Some(id) = util::non_empty(product.product_id.as_deref()) else {
            return;
        };
        let (Some(component), Some(parent)) = (component, parent) else {
            self.add_product(product, &Ancestors::default());
            return;
        };
        let mut composite = self.resolve(parent);
        composite.subcomponents = vec![self.resolve(component).id];
        self.products.insert(id, composite);
    }

    /// Returns the product with this id, or a reference to the id where the
    /// tree does not define it.
    fn resolve(&self, id: &str) -> VexProduct {
        self.products.get(id.trim()).cloned().unwrap_or_else(|| {
            VexProduct::new(ProductId::Reference {
                reference: id.trim().to_string(),
            })
        })
    }

    /// Returns the product ids that a flag, threat or remediation names,
    /// with its groups expanded.
    fn scope_ids<'s>(&'s self, scope: &'s ProductScope) -> HashSet<&'s str> {
        let grouped = scope
            .group_ids
            .iter()
            .filter_map(|group| self.groups.get(group.trim()))
            .flatten();
        scope.product_ids.iter().chain(grouped).map(|id| id.trim()).collect()
    }
}

/// Returns the identifier of a product: its purl, its CPE, its product name
/// and version branches, or its full name.
fn identify(product: &FullProductName, ancestors: &Ancestors) -> Option<ProductId> {
    if let Some(helper) = &product.product_identification_helper {
        let purls = helper
            .purl
            .iter()
            .map(String::as_str)
            .chain(helper.purls.iter().filter_map(|p| p.as_str()));
        let cpe = helper.cpe.as_deref();
        for text in purls.chain(cpe) {
            let id = vex_shared::product_id(text);
            if let Some(id @ (ProductId::Purl { .. } | ProductId::Cpe { .. })) = id {
                return Some(id);
            }
        }
    }
    if let Some(name) = &ancestors.product_name {
        return Some(ProductId::Name {
            name: name.clone(),
            version: ancestors.product_version.clone(),
        });
    }
    let name = util::non_empty(product.name.as_deref())?;
    Some(ProductId::Name { name, version: None })
}

// ---------------------------------------------------------------------------
// Turning a vulnerability into statements.
// ---------------------------------------------------------------------------

/// The product status lists in the order statements are sent, with their status.
fn status_groups(status: &ProductStatus) -> [(VexStatus, &[String]); 8] {
    [
        (VexStatus::NotAffected, &status.known_not_affected),
        (VexStatus::Affected, &status.known_affected),
        (VexStatus::Affected, &status.first_affected),
        (VexStatus::Affected, &status.last_affected),
        (VexStatus::Fixed, &status.fixed),
        (VexStatus::Fixed, &status.first_fixed),
        (VexStatus::Fixed, &status.recommended),
        (VexStatus::UnderInvestigation, &status.under_investigation),
    ]
}

/// What a statement says besides its status and products.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Details {
    status: VexStatus,
    justification: Option<String>,
    impact: Option<String>,
    action: Option<String>,
}

impl State<'_> {
    /// Checks the CSAF version and keeps the document's source and date.
    fn start(&mut self, document: DocumentFields) -> Result<(), String> {
        let version = util::non_empty(document.csaf_version.as_deref())
            .ok_or("missing \"document.csaf_version\": expected a CSAF document of version 2.0 or 2.1")?;
        check_version(&version)?;

        let timestamp = util::non_empty(document.tracking.current_release_date.as_deref());
        if let Some(timestamp) = &timestamp
            && !ctem_model::is_rfc3339(timestamp)
        {
            return Err(format!(
                "invalid \"document.tracking.current_release_date\" {timestamp:?}: expected an RFC 3339 date and time"
            ));
        }
        let mut source = VexSource::new(FORMAT_ID, self.path);
        source.document_id = util::non_empty(document.tracking.id.as_deref());
        source.author = util::non_empty(document.publisher.name.as_deref());
        self.source = Some(source);
        self.timestamp = timestamp;
        Ok(())
    }

    /// Sends the statements of one vulnerability.
    fn emit(&mut self, vulnerability: Vulnerability) {
        let (Some(source), Some(products)) = (&self.source, &self.products) else {
            return;
        };
        let Some((id, aliases)) = vulnerability_ids(&vulnerability) else {
            return;
        };

        let flags: Vec<(String, HashSet<&str>)> = vulnerability
            .flags
            .iter()
            .filter_map(|flag| Some((util::non_empty(flag.label.as_deref())?, products.scope_ids(&flag.scope))))
            .collect();
        let impacts: Vec<(String, HashSet<&str>)> = vulnerability
            .threats
            .iter()
            .filter(|threat| threat.category.as_deref().map(str::trim) == Some("impact"))
            .filter_map(|threat| {
                Some((
                    util::non_empty(threat.details.as_deref())?,
                    products.scope_ids(&threat.scope),
                ))
            })
            .collect();
        let actions: Vec<(String, HashSet<&str>)> = vulnerability
            .remediations
            .iter()
            .filter_map(|remedy| {
                Some((
                    util::non_empty(remedy.details.as_deref())?,
                    products.scope_ids(&remedy.scope),
                ))
            })
            .collect();
        // An entry that names no product applies to every product of the vulnerability.
        let names = |scope: &HashSet<&str>, product: &str| scope.is_empty() || scope.contains(product);

        let mut groups: Vec<(Details, Vec<VexProduct>)> = Vec::new();
        let mut group_of: HashMap<Details, usize> = HashMap::new();
        let mut seen: HashSet<(VexStatus, &str)> = HashSet::new();
        for (status, ids) in status_groups(&vulnerability.product_status) {
            for product_id in ids.iter().map(|id| id.trim()).filter(|id| !id.is_empty()) {
                if !seen.insert((status, product_id)) {
                    continue;
                }
                let not_affected = status == VexStatus::NotAffected;
                let justification = flags
                    .iter()
                    .find(|(_, scope)| not_affected && scope.contains(product_id))
                    .map(|(label, _)| label.clone());
                let impact = impacts
                    .iter()
                    .filter(|(_, scope)| not_affected && names(scope, product_id))
                    .map(|(text, _)| text.as_str())
                    .collect::<Vec<_>>();
                let action = actions
                    .iter()
                    .filter(|(_, scope)| names(scope, product_id))
                    .map(|(text, _)| text.as_str())
                    .collect::<Vec<_>>();
                let details = Details {
                    status,
                    justification,
                    impact: (!impact.is_empty()).then(|| impact.join("\n\n")),
                    action: (!action.is_empty()).then(|| action.join("\n\n")),
                };
                let index = *group_of.entry(details.clone()).or_insert_with(|| {
                    groups.push((details, Vec::new()));
                    groups.len() - 1
                });
                groups[index].1.push(products.resolve(product_id));
            }
        }

        for (details, group) in groups {
            // The timestamp was checked when the document was read.
            let built =
                VexStatement::new(id.clone(), details.status, group, source.clone()).and_then(|statement| match &self
                    .timestamp
                {
                    Some(timestamp) => statement.with_timestamp(timestamp),
                    None => Ok(statement),
                });
            let Ok(mut statement) = built else {
                continue;
            };
            for alias in &aliases {
                statement = statement.with_alias(alias.clone());
            }
            if let Some(justification) = &details.justification {
                statement = statement.with_justification(justification);
            }
            if let Some(impact) = &details.impact {
                statement = statement.with_impact_statement(impact);
            }
            if let Some(action) = &details.action {
                statement = statement.with_action_statement(action);
            }
            self.sink.vex(statement);
        }
    }
}

/// Accepts CSAF 2.0 and 2.1, and names CVRF for 1.x.
fn check_version(version: &str) -> Result<(), String> {
    match version.trim() {
        "2.0" | "2.1" => Ok(()),
        other if other.starts_with("1.") || other == "1" => Err(format!(
            "CSAF version {other} is not supported: CSAF 1.x is the CVRF format (Common Vulnerability Reporting \
             Framework), and this parser reads CSAF 2.0 and 2.1; convert the document to CSAF 2.0 first"
        )),
        other => Err(format!(
            "CSAF version {other:?} is not supported: this parser reads CSAF 2.0 and 2.1"
        )),
    }
}

/// Returns the vulnerability's id (its CVE, else its first valid id) and
/// its other ids, or `None` where it has no valid id.
fn vulnerability_ids(vulnerability: &Vulnerability) -> Option<(VulnerabilityId, Vec<VulnerabilityId>)> {
    let mut ids: Vec<VulnerabilityId> = Vec::new();
    let texts = vulnerability
        .cve
        .iter()
        .chain(vulnerability.ids.iter().filter_map(|entry| entry.text.as_ref()));
    for text in texts {
        if let Ok(id) = text.parse::<VulnerabilityId>()
            && !ids.contains(&id)
        {
            ids.push(id);
        }
    }
    let mut ids = ids.into_iter();
    let first = ids.next()?;
    Some((first, ids.collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_accepted_and_rejected() {
        assert!(check_version("2.0").is_ok());
        assert!(check_version("2.1").is_ok());
        let error = check_version("1.2").unwrap_err();
        assert!(error.contains("not supported") && error.contains("CVRF"), "{error}");
        let error = check_version("3.0").unwrap_err();
        assert!(error.contains("\"3.0\""), "{error}");
    }

    #[test]
    fn branches_give_name_and_version() {
        let tree: ProductTree = serde_json::from_str(
            r#"{"branches": [{"category": "vendor", "name": "Example", "branches": [
                {"category": "product_name", "name": "ABC", "branches": [
                  {"category": "product_version", "name": "4.2",
                   "product": {"product_id": "P1", "name": "Example ABC 4.2"}},
                  {"category": "product_version_range", "name": "vers:generic/<4.0",
                   "product": {"product_id": "P2", "name": "Example ABC < 4.0"}},
                  {"category": "product_version", "name": "5.0",
                   "product": {"product_id": "P3", "name": "Example ABC 5.0",
                     "product_identification_helper": {"purl": "pkg:generic/example/abc@5.0"}}}
                ]}]}],
              "relationships": [{"category": "default_component_of", "product_reference": "P3",
                "relates_to_product_reference": "P1", "full_product_name": {"product_id": "P4", "name": "x"}}]}"#,
        )
        .unwrap();
        let index = ProductIndex::build(tree);
        assert_eq!(
            index.resolve("P1").id,
            ProductId::Name {
                name: "ABC".into(),
                version: Some("4.2".into())
            }
        );
        assert_eq!(index.resolve("P2").version_range.as_deref(), Some("vers:generic/<4.0"));
        assert!(matches!(index.resolve("P3").id, ProductId::Purl { .. }));
        let composite = index.resolve("P4");
        assert_eq!(composite.id, index.resolve("P1").id);
        assert_eq!(composite.subcomponents, [index.resolve("P3").id]);
        assert!(matches!(index.resolve("P9").id, ProductId::Reference { .. }));
    }
}
