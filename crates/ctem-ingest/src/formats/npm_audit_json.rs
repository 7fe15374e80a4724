//! npm audit JSON reports: the advisories that affect a Node.js project's
//! installed packages.
//!
//! # Reads
//!
//! `npm audit --json` of npm 6 (no `auditReportVersion`: `advisories` by
//! advisory id, each with `findings[]` of installed versions and their
//! dependency paths) and of npm 7 and later (`auditReportVersion` 2:
//! `vulnerabilities` by package name, each with `via[]` advisories or names
//! of vulnerable dependencies). An `auditReportVersion` other than 2 is
//! rejected, and so is the error object that npm writes when the audit
//! failed (`{"error": {"code": "ENOAUDIT", ...}}`).
//!
//! # Field mapping
//!
//! npm 6: one finding per advisory and installed version.
//!
//! | report | finding |
//! | --- | --- |
//! | `id` (npm's advisory number), else `github_advisory_id` | `rule_id` |
//! | `github_advisory_id`, the GHSA id in `url`, `cves` | `vulnerability_ids` |
//! | `title` (with ` in <module_name>` where it does not name the package) | `title` |
//! | `severity` (`moderate` is Medium), else the CVSS score | `severity` |
//! | `cvss.vectorString` | `cvss` |
//! | `cwe` (a string, a list, or a list written as a string) | `cwes` |
//! | `module_name`, `findings[].version` | `component` (purl `pkg:npm/...`) |
//! | `recommendation`, `patched_versions` (`>=1.10.2` gives the version 1.10.2) | `fix` |
//! | `overview` | `description` |
//! | `url` and the URLs in `references` | `references` |
//! | `findings[].paths`, `vulnerable_versions`, `dev` | `attributes` |
//!
//! npm 7+: for each entry of `vulnerabilities`, one finding per advisory of
//! its `via[]` (the objects), with the same mapping from the advisory's
//! `source` (npm's advisory number, the rule id), the GHSA id in `url`,
//! `title`, `severity`, `cwe`, `cvss` and `range`.
//! An entry whose `via[]` names only other packages is vulnerable through
//! its dependencies: it gets one finding with the rule id
//! `transitive-vulnerability`, titled after those dependencies, so that each
//! package npm counts as vulnerable is one finding group. npm 7+ gives no
//! installed version, so the component has a name and a version-less purl;
//! `nodes` (the install paths) and `isDirect` are attributes, and
//! `fixAvailable` becomes the fix (`Upgrade vercel to 32.3.0, a major
//! version`).
//!
//! Every package is a `Component` asset that the scanned project
//! `Contains`.
//!
//! # Scope target
//!
//! npm audit names no project, so the scope is
//! [`ParseContext::default_target`]. The subject asset is a `Repository`
//! with that name.
//!
//! # Fingerprint
//!
//! Tool (`npm-audit`), rule id, the subject, and the component's purl
//! (name and, for npm 6, version).
//!
//! # Not read yet
//!
//! `actions` (the install and update commands that fix advisories),
//! `muted`, `metadata` counts, and the `effects` of npm 7+ entries (the
//! reverse of `via`).
//!
//! # Reference
//!
//! <https://docs.npmjs.com/cli/v10/commands/npm-audit> and npm's
//! `@npmcli/metavuln-calculator` and `npm-audit-report` packages, which
//! write the two shapes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::BufRead;

use ctem_model::{Component, Finding, FindingKind, Severity};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use crate::formats::sca_shared::{self, Inventory};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "npm-audit-json";
const TOOL: &str = "npm-audit";
/// The rule id of an npm 7+ package that is vulnerable only through its
/// dependencies.
const TRANSITIVE_RULE: &str = "transitive-vulnerability";

/// The npm audit JSON parser (npm 6 and npm 7+).
pub struct NpmAuditJson;

impl Parser for NpmAuditJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "npm audit JSON",
            tool: "npm audit",
            versions: "npm 6 (advisories) and npm 7+ (auditReportVersion 2)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if !head.starts_with(b"{") {
            return Detection::No;
        }
        let has = |marker: &[u8]| util::contains(head, marker);
        if has(b"\"auditReportVersion\"") {
            return Detection::Certain;
        }
        if has(b"\"advisories\"") && (has(b"\"module_name\"") || has(b"\"muted\"")) {
            return Detection::Certain;
        }
        let error_first = util::trim_start(&head[1..]).starts_with(b"\"error\"");
        if error_first && has(b"\"code\"") && has(b"\"summary\"") {
            // npm's error object: read here to reject it with its message.
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
            .deserialize_map(RootVisitor { state: &mut state })
            .and_then(|()| deserializer.end())
            .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))
    }
}

struct State<'a> {
    target: &'a str,
    sink: &'a mut dyn Sink,
    inventory: &'a mut Inventory,
}

/// Reads the root object: its version, then its advisories (npm 6) or
/// vulnerabilities (npm 7+) one entry at a time.
struct RootVisitor<'s, 'a> {
    state: &'s mut State<'a>,
}

impl<'de> Visitor<'de> for RootVisitor<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an npm audit report object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut entries_seen = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "error" => {
                    let error: NpmError = map.next_value()?;
                    return Err(de::Error::custom(error.message()));
                }
                "auditReportVersion" => {
                    let version = map.next_value_seed(LooseText)?.unwrap_or_default();
                    if version.trim() != "2" {
                        return Err(de::Error::custom(format!(
                            "unsupported npm audit auditReportVersion {version:?}: this parser reads version 2 \
                             (npm 7 and later) and the npm 6 format without a version"
                        )));
                    }
                }
                "advisories" => {
                    let state = &mut *self.state;
                    map.next_value_seed(sca_shared::each_entry(|_, advisory: Advisory| {
                        state.advisory(advisory);
                        Ok(())
                    }))?;
                    entries_seen = true;
                }
                "vulnerabilities" => {
                    let state = &mut *self.state;
                    map.next_value_seed(sca_shared::each_entry(|name, entry: PackageEntry| {
                        state.package_entry(name, entry);
                        Ok(())
                    }))?;
                    entries_seen = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !entries_seen {
            return Err(de::Error::custom(
                "missing \"advisories\" and \"vulnerabilities\": expected an npm audit report (npm audit --json)",
            ));
        }
        Ok(())
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

// ---------------------------------------------------------------------------
// The lean shapes of a report's parts.
// ---------------------------------------------------------------------------

/// The object that npm writes in place of a report when the audit failed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NpmError {
    #[serde(deserialize_with = "util::loose_text")]
    code: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    summary: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    detail: Option<String>,
}

impl NpmError {
    fn message(&self) -> String {
        let parts: Vec<String> = [&self.code, &self.summary, &self.detail]
            .into_iter()
            .filter_map(|part| util::non_empty(part.as_deref()))
            .collect();
        format!(
            "the npm audit report contains an error instead of results ({}); fix the cause and run npm audit --json \
             again",
            parts.join(": ")
        )
    }
}

/// An npm 6 advisory.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Advisory {
    #[serde(deserialize_with = "util::loose_text")]
    id: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    github_advisory_id: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    title: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    module_name: Option<String>,
    #[serde(deserialize_with = "sca_shared::one_or_many")]
    cves: Vec<String>,
    #[serde(deserialize_with = "util::loose_text")]
    vulnerable_versions: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    patched_versions: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    overview: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    recommendation: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    references: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    severity: Option<String>,
    #[serde(deserialize_with = "sca_shared::one_or_many")]
    cwe: Vec<String>,
    cvss: Option<Cvss>,
    #[serde(deserialize_with = "util::loose_text")]
    url: Option<String>,
    findings: Option<Vec<AdvisoryFinding>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AdvisoryFinding {
    #[serde(deserialize_with = "util::loose_text")]
    version: Option<String>,
    #[serde(deserialize_with = "sca_shared::one_or_many")]
    paths: Vec<String>,
    dev: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Cvss {
    #[serde(deserialize_with = "util::loose_text")]
    score: Option<String>,
    #[serde(rename = "vectorString", deserialize_with = "util::loose_text")]
    vector: Option<String>,
}

/// An npm 7+ entry of `vulnerabilities`: one vulnerable package.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PackageEntry {
    #[serde(deserialize_with = "util::loose_text")]
    name: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    severity: Option<String>,
    #[serde(rename = "isDirect")]
    is_direct: Option<bool>,
    via: Option<Vec<Via>>,
    #[serde(deserialize_with = "util::loose_text")]
    range: Option<String>,
    #[serde(deserialize_with = "sca_shared::one_or_many")]
    nodes: Vec<String>,
    #[serde(rename = "fixAvailable")]
    fix_available: Option<FixAvailable>,
}

/// A `via[]` item: an advisory, or the name of a vulnerable dependency.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Via {
    Dependency(String),
    Advisory(Box<ViaAdvisory>),
    Other(IgnoredAny),
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ViaAdvisory {
    #[serde(deserialize_with = "util::loose_text")]
    source: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    title: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    url: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    severity: Option<String>,
    #[serde(deserialize_with = "sca_shared::one_or_many")]
    cwe: Vec<String>,
    cvss: Option<Cvss>,
    #[serde(deserialize_with = "util::loose_text")]
    range: Option<String>,
}

/// `fixAvailable`: `true`, `false`, or the upgrade that fixes the entry.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum FixAvailable {
    Flag(bool),
    Upgrade {
        #[serde(default, deserialize_with = "util::loose_text")]
        name: Option<String>,
        #[serde(default, deserialize_with = "util::loose_text")]
        version: Option<String>,
        #[serde(default, rename = "isSemVerMajor")]
        is_semver_major: Option<bool>,
    },
    Other(IgnoredAny),
}

// ---------------------------------------------------------------------------
// Turning the parts into records.
// ---------------------------------------------------------------------------

impl State<'_> {
    /// Sends one finding per installed version of an npm 6 advisory.
    fn advisory(&mut self, advisory: Advisory) {
        let Some(module) = util::non_empty(advisory.module_name.as_deref()) else {
            return;
        };
        let ghsa = advisory_ghsa(advisory.github_advisory_id.as_deref(), advisory.url.as_deref());
        // npm keeps one advisory per vulnerable range, so two advisories
        // can share a GHSA id: the advisory number tells them apart.
        let Some(rule_id) = util::non_empty(advisory.id.as_deref()).or_else(|| ghsa.clone()) else {
            return;
        };

        // npm lists an installed version once per group of paths, and
        // sometimes the same version twice.
        let mut versions: BTreeMap<Option<String>, (BTreeSet<String>, bool)> = BTreeMap::new();
        for finding in advisory.findings.as_deref().unwrap_or_default() {
            let entry = versions
                .entry(util::non_empty(finding.version.as_deref()))
                .or_insert_with(|| (BTreeSet::new(), true));
            entry.0.extend(finding.paths.iter().map(|p| p.trim().to_string()));
            entry.1 &= finding.dev.unwrap_or(false);
        }
        if versions.is_empty() {
            versions.insert(None, (BTreeSet::new(), false));
        }

        for (version, (paths, dev)) in versions {
            let component = npm_component(&module, version);
            self.inventory.component(self.sink, &component);

            let mut finding = self.new_finding(&rule_id, advisory.title.as_deref(), &component);
            if let Some(ghsa) = &ghsa {
                util::add_vulnerability_id(&mut finding, ghsa);
            }
            for cve in &advisory.cves {
                util::add_vulnerability_id(&mut finding, cve);
            }
            add_cwes(&mut finding, &advisory.cwe);
            add_cvss(&mut finding, advisory.cvss.as_ref());
            finding.severity = severity(advisory.severity.as_deref(), advisory.cvss.as_ref(), &finding);
            finding.description = util::non_empty(advisory.overview.as_deref());
            finding.fix.fixed_versions = patched_version(advisory.patched_versions.as_deref());
            finding.fix.description = util::non_empty(advisory.recommendation.as_deref());
            let urls = advisory.url.iter().map(String::as_str);
            let references = advisory.references.as_deref().map(urls_in).unwrap_or_default();
            finding.references = sca_shared::unique_texts(urls.chain(references));

            let attributes = [
                ("dependency_paths", (!paths.is_empty()).then(|| join(&paths))),
                (
                    "vulnerable_versions",
                    util::non_empty(advisory.vulnerable_versions.as_deref()),
                ),
                (
                    "patched_versions",
                    util::non_empty(advisory.patched_versions.as_deref()),
                ),
                ("dev", dev.then(|| "true".to_string())),
            ];
            insert_attributes(&mut finding, attributes);
            self.sink.finding(finding);
        }
    }

    /// Sends the findings of an npm 7+ package entry: one per advisory of
    /// its `via[]`, or one transitive finding when `via[]` names only
    /// dependencies.
    fn package_entry(&mut self, key: String, entry: PackageEntry) {
        let Some(name) = util::non_empty(entry.name.as_deref()).or_else(|| util::non_empty(Some(&key))) else {
            return;
        };
        let component = npm_component(&name, None);
        self.inventory.component(self.sink, &component);

        let mut advisories: Vec<&ViaAdvisory> = Vec::new();
        let mut dependencies: Vec<&str> = Vec::new();
        for via in entry.via.as_deref().unwrap_or_default() {
            match via {
                Via::Advisory(advisory) => advisories.push(advisory),
                Via::Dependency(dependency) if !dependency.trim().is_empty() => dependencies.push(dependency.trim()),
                Via::Dependency(_) | Via::Other(_) => {}
            }
        }

        let mut findings = Vec::new();
        let mut rules_seen = BTreeSet::new();
        for advisory in advisories {
            let ghsa = advisory_ghsa(None, advisory.url.as_deref());
            let Some(rule_id) = util::non_empty(advisory.source.as_deref()).or_else(|| ghsa.clone()) else {
                continue;
            };
            // npm lists an advisory again for each dependency range it matches.
            if !rules_seen.insert(rule_id.clone()) {
                continue;
            }
            let mut finding = self.new_finding(&rule_id, advisory.title.as_deref(), &component);
            if let Some(ghsa) = &ghsa {
                util::add_vulnerability_id(&mut finding, ghsa);
            }
            add_cwes(&mut finding, &advisory.cwe);
            add_cvss(&mut finding, advisory.cvss.as_ref());
            finding.severity = severity(advisory.severity.as_deref(), advisory.cvss.as_ref(), &finding);
            finding.references = sca_shared::unique_texts(advisory.url.as_deref());
            insert_attributes(
                &mut finding,
                [("vulnerable_versions", util::non_empty(advisory.range.as_deref()))],
            );
            findings.push(finding);
        }
        if findings.is_empty() && !dependencies.is_empty() {
            let title = format!("{name} depends on vulnerable {}", dependencies.join(", "));
            let mut finding = self.new_finding(TRANSITIVE_RULE, Some(&title), &component);
            finding.severity = util::severity_or_cvss(entry.severity.as_deref(), &finding);
            finding.description = Some(format!(
                "npm audit reports {name} as vulnerable because the versions it depends on of {} are vulnerable.",
                dependencies.join(", ")
            ));
            insert_attributes(
                &mut finding,
                [("vulnerable_versions", util::non_empty(entry.range.as_deref()))],
            );
            findings.push(finding);
        }

        let fix = entry.fix_available.as_ref().and_then(|fix| fix_text(&name, fix));
        for mut finding in findings {
            if let Some((fixed_versions, description)) = &fix {
                finding.fix.fixed_versions = fixed_versions.clone();
                finding.fix.description = Some(description.clone());
            }
            let attributes = [
                ("nodes", (!entry.nodes.is_empty()).then(|| entry.nodes.join("\n"))),
                ("is_direct", entry.is_direct.map(|direct| direct.to_string())),
            ];
            insert_attributes(&mut finding, attributes);
            self.sink.finding(finding);
        }
    }

    /// Builds a finding on the subject with its title, component and target.
    fn new_finding(&self, rule_id: &str, title: Option<&str>, component: &Component) -> Finding {
        let title = match util::non_empty(title) {
            Some(title) if title.to_lowercase().contains(&component.name.to_lowercase()) => title,
            Some(title) => format!("{title} in {}", component.name),
            None => format!("{rule_id} in {}", component.name),
        };
        let mut finding = Finding::new(
            TOOL,
            rule_id,
            FindingKind::Vulnerability,
            title,
            Severity::Info,
            self.inventory.subject().clone(),
        );
        finding.component = Some(component.clone());
        finding.target = Some(self.target.to_string());
        finding
    }
}

/// Builds an npm package's component.
fn npm_component(name: &str, version: Option<String>) -> Component {
    Component {
        purl: sca_shared::ecosystem_purl("npm", name, version.as_deref()),
        name: name.to_string(),
        version,
        ecosystem: Some("npm".to_string()),
    }
}

/// Returns the GitHub advisory id of an advisory: the one stated, else the
/// one in its URL (`https://github.com/advisories/GHSA-...`).
fn advisory_ghsa(stated: Option<&str>, url: Option<&str>) -> Option<String> {
    util::non_empty(stated).or_else(|| {
        url.and_then(sca_shared::vulnerability_id_in)
            .map(|id| id.to_string())
            .filter(|id| id.starts_with("GHSA-"))
    })
}

/// Adds the CWEs of npm's `cwe` field, which is a string (`"CWE-94"`), a
/// list, or in some npm 6 reports a list written as a string
/// (`"[\"CWE-400\"]"`).
fn add_cwes(finding: &mut Finding, texts: &[String]) {
    for text in texts {
        let mut found = false;
        for (index, _) in text.match_indices("CWE-") {
            let digits: String = text[index + 4..].chars().take_while(char::is_ascii_digit).collect();
            if !digits.is_empty() {
                util::add_cwe(finding, &digits);
                found = true;
            }
        }
        if !found {
            util::add_cwe(finding, text);
        }
    }
}

/// Adds the CVSS vector of an advisory, ignoring npm's placeholder of a
/// zero score without a vector.
fn add_cvss(finding: &mut Finding, cvss: Option<&Cvss>) {
    if let Some(vector) = cvss.and_then(|c| util::non_empty(c.vector.as_deref())) {
        util::add_cvss(finding, &vector);
    }
}

/// Returns the severity word of the report, else the rating of the CVSS
/// vector or score, else Info.
fn severity(word: Option<&str>, cvss: Option<&Cvss>, finding: &Finding) -> Severity {
    let stated = util::severity_or_cvss(word, finding);
    if stated != Severity::Info || word.is_some_and(|w| w.parse::<Severity>().is_ok()) {
        return stated;
    }
    cvss.and_then(|c| c.score.as_deref()?.trim().parse::<f64>().ok())
        .filter(|score| (0.0..=10.0).contains(score))
        .map(Severity::from_cvss_score)
        .unwrap_or(Severity::Info)
}

/// Returns the fixed version of a `patched_versions` range of the form
/// `>=1.10.2`; other ranges (`<0.0.0` for no fix, unions) give none.
fn patched_version(range: Option<&str>) -> Vec<String> {
    let Some(version) = range.map(str::trim).and_then(|r| r.strip_prefix(">=")) else {
        return Vec::new();
    };
    let version = version.trim();
    if version.is_empty() || version.contains(char::is_whitespace) || version.contains("||") {
        return Vec::new();
    }
    vec![version.to_string()]
}

/// Returns the fix of an npm 7+ entry: the fixed versions (when the upgrade
/// is of the package itself) and a sentence.
fn fix_text(name: &str, fix: &FixAvailable) -> Option<(Vec<String>, String)> {
    match fix {
        FixAvailable::Flag(true) => Some((Vec::new(), "Run npm audit fix".to_string())),
        FixAvailable::Upgrade {
            name: upgrade,
            version,
            is_semver_major,
        } => {
            let upgrade = util::non_empty(upgrade.as_deref())?;
            let version = util::non_empty(version.as_deref())?;
            let major = if is_semver_major == &Some(true) {
                ", a major version"
            } else {
                ""
            };
            let fixed = if upgrade == name {
                vec![version.clone()]
            } else {
                Vec::new()
            };
            Some((fixed, format!("Upgrade {upgrade} to {version}{major}")))
        }
        FixAvailable::Flag(false) | FixAvailable::Other(_) => None,
    }
}

/// Returns the http and https URLs in a text such as npm's Markdown
/// `references` (`- https://...` lines, `[Issue](https://...)` links).
fn urls_in(text: &str) -> Vec<&str> {
    let mut urls = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("http") {
        let candidate = &rest[start..];
        let end = candidate
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | ']' | '<' | '>' | '"'))
            .unwrap_or(candidate.len());
        let url = &candidate[..end];
        if url.starts_with("https://") || url.starts_with("http://") {
            urls.push(url);
        }
        rest = &candidate[end.max(4)..];
    }
    urls
}

fn join(paths: &BTreeSet<String>) -> String {
    paths.iter().map(String::as_str).collect::<Vec<_>>().join("\n")
}

fn insert_attributes<const N: usize>(finding: &mut Finding, attributes: [(&str, Option<String>); N]) {
    for (name, value) in attributes {
        if let Some(value) = value {
            finding.attributes.insert(name.to_string(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_markdown() {
        let text = "[Issue #60](https://github.com/tj/node-growl/issues/60)\n- https://nvd.nist.gov/x\nhttpx";
        assert_eq!(
            urls_in(text),
            ["https://github.com/tj/node-growl/issues/60", "https://nvd.nist.gov/x"]
        );
    }

    #[test]
    fn patched_versions() {
        assert_eq!(patched_version(Some(">=1.10.2")), ["1.10.2"]);
        assert!(patched_version(Some("<0.0.0")).is_empty());
        assert!(patched_version(Some(">=2.0.0 <3.0.0")).is_empty());
        assert!(patched_version(None).is_empty());
    }
}
