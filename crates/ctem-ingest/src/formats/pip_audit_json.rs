//! pip-audit JSON reports: the known vulnerabilities of a Python
//! environment's or requirements file's packages.
//!
//! # Reads
//!
//! `pip-audit --format json` from pip-audit 1.x and 2.x in both shapes:
//! the early top-level array of dependencies, and the object
//! `{"dependencies": [...], "fixes": [...]}` of later 2.x releases. Each
//! dependency is `{name, version, vulns: [{id, fix_versions, aliases,
//! description}]}`, or `{name, skip_reason}` for a package that pip-audit
//! could not audit.
//!
//! # Field mapping
//!
//! One finding per dependency and vulnerability:
//!
//! | report | finding |
//! | --- | --- |
//! | `vulns[].id` | `rule_id`, `vulnerability_ids` |
//! | `vulns[].aliases` | `vulnerability_ids` |
//! | `id`, `name`, `version` | `title` (`PYSEC-2021-76 in aiohttp 3.6.2`) |
//! | `name`, `version` | `component` (purl `pkg:pypi/name@version`, ecosystem `pypi`) |
//! | `fix_versions` | `fix.fixed_versions`, and `fix.description` (`Upgrade aiohttp to 3.7.4`) |
//! | `description` | `description` |
//!
//! pip-audit gives no severity, CWE or CVSS, so the severity is `Info`
//! until enrichment adds CVSS scores for the CVE aliases. Every dependency
//! is a `Component` asset that the scanned project `Contains`;
//! a skipped one keeps its `skip_reason` as an attribute.
//!
//! # Scope target
//!
//! pip-audit names no project, so the scope is
//! [`ParseContext::default_target`] (the engine's `--target`, else the
//! report's file name). The subject asset is a `Repository`
//! with that name.
//!
//! # Fingerprint
//!
//! Tool (`pip-audit`), vulnerability id, the subject, and the component's
//! purl (name and version). No path or line.
//!
//! # Not read yet
//!
//! `fixes` (the upgrades that `--fix` applied or skipped), and the CycloneDX,
//! Markdown and columns output formats of pip-audit.
//!
//! # Reference
//!
//! <https://github.com/pypa/pip-audit#reporting-only-fixed-vulnerabilities>
//! and pip-audit's `JsonFormat` (`pip_audit/_format/json.py`).

use std::fmt;
use std::io::BufRead;

use ctem_model::{Component, Finding, FindingKind, Severity};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::formats::sca_shared::{self, Inventory};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "pip-audit-json";
const TOOL: &str = "pip-audit";

/// Returns the text after an opening bracket and the whitespace that
/// follows it, or nothing when the text does not open with that bracket.
fn after_opening(text: &[u8], opening: u8) -> &[u8] {
    text.strip_prefix(&[opening]).map(util::trim_start).unwrap_or_default()
}

/// The pip-audit JSON parser.
pub struct PipAuditJson;

impl Parser for PipAuditJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "pip-audit JSON",
            tool: "pip-audit",
            versions: "pip-audit 1.x and 2.x (array and {dependencies, fixes} shapes)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        // pip-audit writes each dependency as {"name", "version", "vulns"}
        // in that order, and the newer shape opens with "dependencies".
        let list_shape = after_opening(after_opening(head, b'['), b'{').starts_with(b"\"name\"");
        let object_shape = after_opening(head, b'{').starts_with(b"\"dependencies\"");
        if !list_shape && !object_shape {
            return Detection::No;
        }
        let has = |marker: &[u8]| util::contains(head, marker);
        if has(b"\"vulns\"") && (has(b"\"fix_versions\"") || has(b"\"skip_reason\"") || list_shape) {
            return Detection::Certain;
        }
        if object_shape {
            // `{"dependencies": []}`: the shape fits, but it names no field of pip-audit's own.
            return Detection::Maybe;
        }
        Detection::No
    }

    fn parse(
        &self,
        context: &ParseContext<'_>,
        reader: &mut dyn BufRead,
        sink: &mut dyn Sink,
    ) -> Result<(), ParseError> {
        let mut inventory = Inventory::repository(sink, TOOL, context.default_target);
        let mut state = State {
            target: context.default_target,
            sink,
            inventory: &mut inventory,
        };
        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        deserializer
            .deserialize_any(RootVisitor { state: &mut state })
            .and_then(|()| deserializer.end())
            .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))
    }
}

struct State<'a> {
    target: &'a str,
    sink: &'a mut dyn Sink,
    inventory: &'a mut Inventory,
}

/// Reads the root: the array of dependencies, or the object that contains it.
struct RootVisitor<'s, 'a> {
    state: &'s mut State<'a>,
}

impl<'de> Visitor<'de> for RootVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a pip-audit report: an array of dependencies or {\"dependencies\": [...]}")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(dependency) = seq.next_element::<Dependency>()? {
            self.state.dependency(dependency);
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut dependencies_seen = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "dependencies" {
                let state = &mut *self.state;
                map.next_value_seed(sca_shared::each_element(|dependency: Dependency| {
                    state.dependency(dependency);
                    Ok(())
                }))?;
                dependencies_seen = true;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if !dependencies_seen {
            return Err(de::Error::custom(
                "missing \"dependencies\": expected a pip-audit report, an array of dependencies or an object \
                 with \"dependencies\"",
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Dependency {
    #[serde(deserialize_with = "util::loose_text")]
    name: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    version: Option<String>,
    vulns: Option<Vec<Vulnerability>>,
    #[serde(deserialize_with = "util::loose_text")]
    skip_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Vulnerability {
    #[serde(deserialize_with = "util::loose_text")]
    id: Option<String>,
    #[serde(deserialize_with = "sca_shared::one_or_many")]
    fix_versions: Vec<String>,
    #[serde(deserialize_with = "sca_shared::one_or_many")]
    aliases: Vec<String>,
    #[serde(deserialize_with = "util::loose_text")]
    description: Option<String>,
}

impl State<'_> {
    /// Sends the dependency's component asset and one finding per
    /// vulnerability.
    fn dependency(&mut self, dependency: Dependency) {
        let Some(name) = util::non_empty(dependency.name.as_deref()) else {
            return;
        };
        let version = util::non_empty(dependency.version.as_deref());
        let component = Component {
            purl: sca_shared::ecosystem_purl("PyPI", &name, version.as_deref()),
            name,
            version,
            ecosystem: Some("pypi".to_string()),
        };
        let identifier = sca_shared::component_identifier(&component);
        let mut asset = sca_shared::component_asset(&component, &identifier);
        if let Some(reason) = util::non_empty(dependency.skip_reason.as_deref()) {
            // A skipped package is part of the inventory but was not audited.
            asset.attributes.insert("skip_reason".to_string(), reason);
        }
        self.inventory.add(self.sink, asset);

        for vulnerability in dependency.vulns.unwrap_or_default() {
            if let Some(finding) = self.finding(&component, vulnerability) {
                self.sink.finding(finding);
            }
        }
    }

    fn finding(&self, component: &Component, vulnerability: Vulnerability) -> Option<Finding> {
        let id = util::non_empty(vulnerability.id.as_deref())?;
        let title = match &component.version {
            Some(version) => format!("{id} in {} {version}", component.name),
            None => format!("{id} in {}", component.name),
        };
        let mut finding = Finding::new(
            TOOL,
            &id,
            FindingKind::Vulnerability,
            title,
            Severity::Info,
            self.inventory.subject().clone(),
        );
        finding.target = Some(self.target.to_string());
        util::add_vulnerability_id(&mut finding, &id);
        for alias in &vulnerability.aliases {
            util::add_vulnerability_id(&mut finding, alias);
        }
        finding.severity = util::severity_or_cvss(None, &finding);
        finding.description = util::non_empty(vulnerability.description.as_deref());
        finding.fix.fixed_versions = sca_shared::unique_texts(vulnerability.fix_versions.iter().map(String::as_str));
        if !finding.fix.fixed_versions.is_empty() {
            finding.fix.description = Some(format!(
                "Upgrade {} to {}",
                component.name,
                finding.fix.fixed_versions.join(" or ")
            ));
        }
        finding.component = Some(component.clone());
        Some(finding)
    }
}
