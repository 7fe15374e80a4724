//! The model of an SPDX 2.x document that both SPDX parsers (JSON and
//! tag-value) fill, and the records it turns into once the document has
//! been read.
//!
//! The described package, which becomes the subject asset, is named by
//! relationships that SPDX writers put after the packages, so a document's
//! packages are kept (their name, version, purl, purpose and security
//! references only) until the end of the document.

use std::collections::{BTreeSet, HashMap, HashSet};

use ctem_model::{
    Asset, AssetKey, AssetKind, Component, Finding, FindingKind, Purl, Relationship, RelationshipKind, Severity,
};

use crate::formats::sca_shared;
use crate::{ParseContext, Sink, util};

/// The message for SPDX 3 documents, which both parsers reject.
pub(crate) const SPDX3_UNSUPPORTED: &str = "SPDX 3 is not supported yet; export SPDX 2.3 JSON";
/// The tool name of documents that name no tool among their creators.
const DEFAULT_TOOL: &str = "spdx";

/// The parts of one SPDX 2.x document that the parsers keep.
#[derive(Debug, Default)]
pub(crate) struct SpdxDocument {
    /// The document's own SPDX id, usually `SPDXRef-DOCUMENT`.
    pub spdx_id: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// The `creationInfo.creators` entries (`Tool: trivy-0.50.0`).
    pub creators: Vec<String>,
    /// The ids of `documentDescribes` (JSON only).
    pub describes: Vec<String>,
    pub packages: Vec<SpdxPackage>,
    /// Relationships as (element, type, related element).
    pub relationships: Vec<(String, String, String)>,
}

/// The parts of one package that the parsers keep.
#[derive(Debug, Default, Clone)]
pub(crate) struct SpdxPackage {
    pub spdx_id: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
    /// The first `PACKAGE-MANAGER purl` external reference.
    pub purl: Option<String>,
    /// `primaryPackagePurpose` (SPDX 2.3).
    pub purpose: Option<String>,
    /// The `SECURITY` external references other than CPEs.
    pub security_refs: Vec<SecurityRef>,
}

/// A `SECURITY` external reference (`advisory`, `fix`, `url`).
#[derive(Debug, Default, Clone)]
pub(crate) struct SecurityRef {
    pub kind: String,
    pub locator: String,
    pub comment: Option<String>,
}

impl SpdxPackage {
    /// Records an external reference: the purl, or a security reference.
    /// CPE and SWID references name the package, not a vulnerability, so
    /// they are not kept. Returns whether a security reference was kept.
    pub(crate) fn add_external_ref(
        &mut self,
        category: &str,
        kind: &str,
        locator: &str,
        comment: Option<String>,
    ) -> bool {
        let category = category.trim().replace('_', "-").to_ascii_uppercase();
        let kind = kind.trim();
        let locator = locator.trim();
        if locator.is_empty() {
            return false;
        }
        match category.as_str() {
            "PACKAGE-MANAGER" if kind == "purl" && self.purl.is_none() => {
                self.purl = Some(locator.to_string());
                false
            }
            "SECURITY" if !matches!(kind, "cpe22Type" | "cpe23Type" | "swid") => {
                self.security_refs.push(SecurityRef {
                    kind: kind.to_string(),
                    locator: locator.to_string(),
                    comment,
                });
                true
            }
            _ => false,
        }
    }
}

/// Checks an `spdxVersion`: SPDX 2.x is read, SPDX 3 and others rejected.
pub(crate) fn check_version(version: &str) -> Result<(), String> {
    let version = version.trim();
    if version.starts_with("SPDX-2.") {
        return Ok(());
    }
    if version.starts_with("SPDX-3") || version.starts_with('3') {
        return Err(format!("{SPDX3_UNSUPPORTED} (the document declares {version:?})"));
    }
    Err(format!(
        "unsupported spdxVersion {version:?}: this parser reads SPDX 2.2 and 2.3 documents (SPDX-2.x)"
    ))
}

/// Relationship types whose element contains (or depends on) the related
/// element.
const FORWARD: &[&str] = &[
    "CONTAINS",
    "DEPENDS_ON",
    "DYNAMIC_LINK",
    "STATIC_LINK",
    "HAS_PREREQUISITE",
];
/// Relationship types whose related element contains (or depends on) the
/// element.
const REVERSE: &[&str] = &["CONTAINED_BY", "DEPENDENCY_OF", "PREREQUISITE_FOR"];

impl SpdxDocument {
    /// Sends the document's records: the subject asset and scope, a
    /// component asset per other package, `Contains` relationships, and a
    /// finding per package and vulnerability that its security references
    /// name.
    pub(crate) fn emit(self, context: &ParseContext<'_>, sink: &mut dyn Sink) {
        let tool = tool_name(&self.creators);
        let document_id = self.spdx_id.clone().unwrap_or_else(|| "SPDXRef-DOCUMENT".to_string());
        let described = self.described_package(&document_id);

        let (subject_key, target) = match described.and_then(|index| self.packages.get(index)) {
            Some(package) => {
                let (asset, target) = subject_asset(package);
                let key = asset.key.clone();
                sink.asset(asset);
                (key, target)
            }
            None => {
                let target = [self.name.as_deref(), self.namespace.as_deref()]
                    .into_iter()
                    .find_map(util::non_empty)
                    .unwrap_or_else(|| context.default_target.to_string());
                let asset = Asset::new(AssetKind::Other, &target, target.clone());
                let key = asset.key.clone();
                sink.asset(asset);
                (key, target)
            }
        };
        sink.target(&tool, &target);

        // Every package's key, by SPDX id; the described package is the subject.
        let mut keys: HashMap<String, AssetKey> = HashMap::new();
        let mut sent: HashSet<AssetKey> = HashSet::new();
        let mut components: Vec<(usize, Component, AssetKey)> = Vec::new();
        for (index, package) in self.packages.iter().enumerate() {
            if Some(index) == described {
                if let Some(id) = &package.spdx_id {
                    keys.insert(id.clone(), subject_key.clone());
                }
                continue;
            }
            let Some(component) = package_component(package) else {
                continue;
            };
            let identifier = sca_shared::component_identifier(&component);
            let key = AssetKey::new(AssetKind::Component, &identifier);
            if sent.insert(key.clone()) {
                sink.asset(sca_shared::component_asset(&component, &identifier));
            }
            if let Some(id) = &package.spdx_id {
                keys.insert(id.clone(), key.clone());
            }
            components.push((index, component, key));
        }

        let mut edges: BTreeSet<(AssetKey, AssetKey)> = BTreeSet::new();
        for (element, kind, related) in &self.relationships {
            let kind = kind.trim().to_ascii_uppercase();
            let (from, to) = if FORWARD.contains(&kind.as_str()) {
                (element, related)
            } else if REVERSE.contains(&kind.as_str()) {
                (related, element)
            } else {
                continue;
            };
            if let (Some(from), Some(to)) = (keys.get(from.trim()), keys.get(to.trim()))
                && from != to
            {
                edges.insert((from.clone(), to.clone()));
            }
        }
        // A package that no relationship places is contained by the subject.
        let placed: HashSet<&AssetKey> = edges.iter().map(|(_, to)| to).collect();
        let orphans: BTreeSet<AssetKey> = components
            .iter()
            .map(|(_, _, key)| key)
            .filter(|key| !placed.contains(key) && **key != subject_key)
            .cloned()
            .collect();
        for (from, to) in edges
            .iter()
            .cloned()
            .chain(orphans.into_iter().map(|to| (subject_key.clone(), to)))
        {
            sink.relationship(Relationship::new(from, RelationshipKind::Contains, to));
        }

        for (index, component, _) in &components {
            for finding in package_findings(&self.packages[*index], component, &tool, &subject_key, &target) {
                sink.finding(finding);
            }
        }
    }

    /// Returns the index of the described package: the first package that a
    /// `DESCRIBES` relationship of the document (or `documentDescribes`, or
    /// a `DESCRIBED_BY` relationship) names.
    fn described_package(&self, document_id: &str) -> Option<usize> {
        let from_relationships = self.relationships.iter().filter_map(|(element, kind, related)| {
            match kind.trim().to_ascii_uppercase().as_str() {
                "DESCRIBES" if element.trim() == document_id => Some(related.trim()),
                "DESCRIBED_BY" if related.trim() == document_id => Some(element.trim()),
                _ => None,
            }
        });
        let ids: Vec<&str> = self
            .describes
            .iter()
            .map(|id| id.trim())
            .chain(from_relationships)
            .collect();
        ids.iter().find_map(|id| {
            self.packages.iter().position(|p| {
                p.spdx_id.as_deref().map(str::trim) == Some(*id) && util::non_empty(p.name.as_deref()).is_some()
            })
        })
    }
}

/// Returns the tool that wrote the document, from its first `Tool:`
/// creator without the version (`Tool: trivy-0.50.1` is `trivy`), or
/// `spdx`.
fn tool_name(creators: &[String]) -> String {
    let Some(tool) = creators
        .iter()
        .find_map(|creator| creator.trim().strip_prefix("Tool:").map(str::trim))
        .filter(|tool| !tool.is_empty())
    else {
        return DEFAULT_TOOL.to_string();
    };
    let name = match tool.rsplit_once('-') {
        Some((name, version))
            if !name.is_empty() && (version.starts_with(|c: char| c.is_ascii_digit()) || version == "dev") =>
        {
            name
        }
        _ => tool,
    };
    name.split_whitespace().collect::<Vec<_>>().join("-").to_lowercase()
}

/// Returns the subject asset of the described package and the scope
/// target: its name without version.
fn subject_asset(package: &SpdxPackage) -> (Asset, String) {
    let target = package.name.as_deref().unwrap_or_default().trim().to_string();
    let purpose = package.purpose.as_deref().map(str::trim).unwrap_or_default();
    let container = purpose.eq_ignore_ascii_case("CONTAINER")
        || package
            .spdx_id
            .as_deref()
            .is_some_and(|id| id.starts_with("SPDXRef-ContainerImage"));
    let kind = if container {
        AssetKind::ContainerImage
    } else {
        AssetKind::Repository
    };

    let mut asset = Asset::new(kind, &target, target.clone());
    if let Some(purl) = package.purl.as_deref().and_then(|p| p.parse::<Purl>().ok()) {
        asset.add_identifier("purl", purl.to_string());
    }
    if let Some(version) = util::non_empty(package.version.as_deref()) {
        asset.attributes.insert("version".to_string(), version);
    }
    if !purpose.is_empty() {
        asset.attributes.insert("purpose".to_string(), purpose.to_string());
    }
    (asset, target)
}

/// Builds the component of a package, or `None` for a package without a
/// name.
fn package_component(package: &SpdxPackage) -> Option<Component> {
    let name = util::non_empty(package.name.as_deref())?;
    let purl = package.purl.as_deref().and_then(|p| p.parse::<Purl>().ok());
    Some(Component {
        ecosystem: purl.as_ref().map(|p| p.ty().to_string()),
        version: util::non_empty(package.version.as_deref()).filter(|v| v != "NOASSERTION"),
        name,
        purl,
    })
}

/// Builds one finding per vulnerability id that the package's security
/// references name (an `advisory`, `fix` or `url` whose locator, or else
/// whose comment, contains a CVE or GHSA id). References to the same id
/// make one finding.
fn package_findings(
    package: &SpdxPackage,
    component: &Component,
    tool: &str,
    subject: &AssetKey,
    target: &str,
) -> Vec<Finding> {
    let mut findings: Vec<Finding> = Vec::new();
    for reference in &package.security_refs {
        let id = sca_shared::vulnerability_id_in(&reference.locator)
            .or_else(|| reference.comment.as_deref().and_then(sca_shared::vulnerability_id_in));
        let Some(id) = id else {
            continue;
        };
        let position = findings.iter().position(|f| f.rule_id == id.as_str());
        let finding = match position {
            Some(position) => &mut findings[position],
            None => {
                let title = match &component.version {
                    Some(version) => format!("{id} in {} {version}", component.name),
                    None => format!("{id} in {}", component.name),
                };
                let mut finding = Finding::new(
                    tool,
                    id.as_str(),
                    FindingKind::Vulnerability,
                    title,
                    Severity::Info,
                    subject.clone(),
                );
                finding.add_vulnerability_id(id.clone());
                finding.severity = util::severity_or_cvss(None, &finding);
                finding.component = Some(component.clone());
                finding.target = Some(target.to_string());
                findings.push(finding);
                findings.last_mut().expect("just pushed")
            }
        };
        if !finding.references.contains(&reference.locator) {
            finding.references.push(reference.locator.clone());
        }
        if reference.kind == "fix" {
            let advice = reference.comment.as_deref().and_then(|c| util::non_empty(Some(c)));
            finding.fix.description = Some(match advice {
                Some(comment) => format!("{comment}: {}", reference.locator),
                None => format!("See the fix at {}", reference.locator),
            });
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_names() {
        let tool = |creator: &str| tool_name(&[creator.to_string()]);
        assert_eq!(tool("Tool: trivy-dev"), "trivy");
        assert_eq!(tool("Tool: syft-1.50.0"), "syft");
        assert_eq!(tool("Tool: spdx-sbom-generator-v0.0.13"), "spdx-sbom-generator-v0.0.13");
        assert_eq!(tool("Organization: Anchore, Inc"), "spdx");
        assert_eq!(tool("Tool: Microsoft SBOM Tool-2.2.8"), "microsoft-sbom-tool");
    }

    #[test]
    fn versions() {
        assert!(check_version("SPDX-2.3").is_ok());
        assert!(check_version("SPDX-2.2").is_ok());
        assert!(check_version("SPDX-3.0").unwrap_err().contains(SPDX3_UNSUPPORTED));
        assert!(
            check_version("CycloneDX")
                .unwrap_err()
                .contains("unsupported spdxVersion")
        );
    }
}
