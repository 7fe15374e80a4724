//! SPDX 2.x JSON documents: software bills of materials from Syft, Trivy,
//! the Kubernetes and Microsoft SBOM tools, GitHub's dependency graph
//! export and others.
//!
//! # Reads
//!
//! SPDX 2.2 and 2.3 JSON (`spdxVersion` `SPDX-2.x`): `SPDXID`, `name`,
//! `documentNamespace`, `creationInfo.creators`, `documentDescribes`,
//! `packages[]` (`SPDXID`, `name`, `versionInfo`, `primaryPackagePurpose`,
//! `externalRefs[]`) and `relationships[]`. SPDX 3 documents (JSON-LD with
//! an `@context` of `spdx.org/rdf/3...`) are rejected with the message
//! "SPDX 3 is not supported yet; export SPDX 2.3 JSON", and other
//! `spdxVersion`s with the value found.
//!
//! # Field mapping
//!
//! - The described package (named by a `DESCRIBES` relationship of the
//!   document, or by `documentDescribes`) is the subject asset: a
//!   `ContainerImage` when its purpose is `CONTAINER` or its id is Trivy's
//!   `SPDXRef-ContainerImage-...`, a `Repository` otherwise.
//! - Every other package is a `Component` asset keyed by its purl (the
//!   `PACKAGE-MANAGER` `purl` external reference), else `name@version`.
//! - `CONTAINS`, `DEPENDS_ON`, `DYNAMIC_LINK`, `STATIC_LINK` and
//!   `HAS_PREREQUISITE` relationships (and their reverses `CONTAINED_BY`,
//!   `DEPENDENCY_OF`, `PREREQUISITE_FOR`) between packages become
//!   `Contains` relationships; a package that none places is contained by
//!   the subject.
//! - SPDX 2.x has no vulnerabilities, but a package's `SECURITY` external
//!   references of type `advisory`, `fix` or `url` may name one in their
//!   locator (`https://.../CVE-2024-10001`). Each CVE or GHSA id so named
//!   gives one finding on the package: `rule_id` and `vulnerability_ids`
//!   the id, `title` `<id> in <name> <version>`, the locators as
//!   `references`, a `fix` reference and its comment as `fix.description`.
//!   SPDX gives no severity, so it is `Info`. CPE references never make
//!   findings.
//! - The tool is the first `Tool:` creator without its version
//!   (`Tool: trivy-0.50.1` is `trivy`), else `spdx`.
//!
//! # Scope target
//!
//! The described package's name, without its version, so that a newer SBOM
//! of the same image or project covers the same scope. Without a described
//! package: the document `name`, else the `documentNamespace`, else
//! [`ParseContext::default_target`]. The namespace comes last because SPDX
//! makes it unique per document, so it changes with every run.
//!
//! # Fingerprint
//!
//! Tool, vulnerability id, the subject, and the component's purl (or name
//! and version).
//!
//! # Not read yet
//!
//! `files`, `snippets`, `hasExtractedLicensingInfos`, licenses, checksums,
//! annotations, `externalDocumentRefs`, and relationships to files.
//!
//! # Memory
//!
//! Packages are read one at a time, but what is kept of each (ids, name,
//! version, purl, security references) stays until the document ends,
//! because the relationships that name the subject come after them.
//!
//! # Reference
//!
//! <https://spdx.github.io/spdx-spec/v2.3/> (document creation, package and
//! relationship sections, and annex B, external repository identifiers).

use std::fmt;
use std::io::BufRead;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::formats::sca_shared;
use crate::formats::spdx_shared::{self, SpdxDocument, SpdxPackage};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "spdx-json";

/// The SPDX 2.x JSON parser.
pub struct SpdxJson;

impl Parser for SpdxJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "SPDX JSON",
            tool: "any SPDX producer (Syft, Trivy, Microsoft SBOM Tool, GitHub...)",
            versions: "SPDX 2.2 and 2.3 (SPDX 3 is rejected)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if !head.starts_with(b"{") {
            return Detection::No;
        }
        if util::contains(head, b"\"spdxVersion\"") {
            return Detection::Certain;
        }
        // SPDX 3 JSON-LD: claimed so that it is rejected with a clear message.
        if util::contains(head, b"\"@context\"") && util::contains(head, b"spdx.org/rdf/3") {
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
        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        let document = deserializer
            .deserialize_map(DocumentVisitor)
            .and_then(|document| deserializer.end().map(|()| document))
            .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))?;
        document.emit(context, sink);
        Ok(())
    }
}

/// Reads the root object into an [`SpdxDocument`], one package and one
/// relationship at a time.
struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = SpdxDocument;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an SPDX JSON document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SpdxDocument, A::Error> {
        let mut document = SpdxDocument::default();
        let mut version_seen = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "spdxVersion" => {
                    let version: Option<String> = map.next_value_seed(LooseText)?;
                    spdx_shared::check_version(version.as_deref().unwrap_or_default()).map_err(de::Error::custom)?;
                    version_seen = true;
                }
                "@context" | "@graph" => {
                    return Err(de::Error::custom(spdx_shared::SPDX3_UNSUPPORTED));
                }
                "SPDXID" => document.spdx_id = map.next_value_seed(LooseText)?,
                "name" => document.name = map.next_value_seed(LooseText)?,
                "documentNamespace" => document.namespace = map.next_value_seed(LooseText)?,
                "creationInfo" => {
                    let info: CreationInfo = map.next_value()?;
                    document.creators = info.creators;
                }
                "documentDescribes" => {
                    let describes: Vec<serde_json::Value> = map.next_value::<Option<_>>()?.unwrap_or_default();
                    document.describes = describes
                        .into_iter()
                        .filter_map(|value| value.as_str().map(str::to_string))
                        .collect();
                }
                "packages" => {
                    let packages = &mut document.packages;
                    map.next_value_seed(sca_shared::each_element(|package: JsonPackage| {
                        packages.push(package.into_package());
                        Ok(())
                    }))?;
                }
                "relationships" => {
                    let relationships = &mut document.relationships;
                    map.next_value_seed(sca_shared::each_element(|relationship: JsonRelationship| {
                        if let (Some(element), Some(kind), Some(related)) =
                            (relationship.element, relationship.kind, relationship.related)
                        {
                            relationships.push((element, kind, related));
                        }
                        Ok(())
                    }))?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !version_seen {
            return Err(de::Error::custom(
                "missing \"spdxVersion\": expected an SPDX 2.2 or 2.3 JSON document",
            ));
        }
        Ok(document)
    }
}

/// Reads a scalar as text through [`util::loose_text`].
struct LooseText;

impl<'de> de::DeserializeSeed<'de> for LooseText {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<String>, D::Error> {
        util::loose_text(deserializer)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CreationInfo {
    #[serde(deserialize_with = "sca_shared::one_or_many")]
    creators: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JsonPackage {
    #[serde(rename = "SPDXID", deserialize_with = "util::loose_text")]
    spdx_id: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    name: Option<String>,
    #[serde(rename = "versionInfo", deserialize_with = "util::loose_text")]
    version: Option<String>,
    #[serde(rename = "primaryPackagePurpose", deserialize_with = "util::loose_text")]
    purpose: Option<String>,
    #[serde(rename = "externalRefs")]
    external_refs: Option<Vec<ExternalRef>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ExternalRef {
    #[serde(rename = "referenceCategory", deserialize_with = "util::loose_text")]
    category: Option<String>,
    #[serde(rename = "referenceType", deserialize_with = "util::loose_text")]
    kind: Option<String>,
    #[serde(rename = "referenceLocator", deserialize_with = "util::loose_text")]
    locator: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    comment: Option<String>,
}

impl JsonPackage {
    fn into_package(self) -> SpdxPackage {
        let mut package = SpdxPackage {
            spdx_id: self.spdx_id,
            name: self.name,
            version: self.version,
            purpose: self.purpose,
            ..SpdxPackage::default()
        };
        for reference in self.external_refs.unwrap_or_default() {
            // A comment comes with its reference in JSON, so the result is not needed.
            let _ = package.add_external_ref(
                reference.category.as_deref().unwrap_or_default(),
                reference.kind.as_deref().unwrap_or_default(),
                reference.locator.as_deref().unwrap_or_default(),
                reference.comment,
            );
        }
        package
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct JsonRelationship {
    #[serde(rename = "spdxElementId", deserialize_with = "util::loose_text")]
    element: Option<String>,
    #[serde(rename = "relationshipType", deserialize_with = "util::loose_text")]
    kind: Option<String>,
    #[serde(rename = "relatedSpdxElement", deserialize_with = "util::loose_text")]
    related: Option<String>,
}
