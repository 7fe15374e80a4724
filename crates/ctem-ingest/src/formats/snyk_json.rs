//! Snyk Open Source and Snyk Container JSON reports: `snyk test --json`,
//! `snyk test --all-projects --json` and `snyk container test --json`.
//!
//! # Reads
//!
//! The JSON output of the Snyk CLI 1.x: one project object, or an array of
//! project objects (`--all-projects`). A project has `vulnerabilities`,
//! `projectName`, `displayTargetFile`, `targetFile`, `path`,
//! `packageManager`, and for container scans `docker` and `applications`
//! (the application projects found inside the image, with the same shape).
//! An error report (`{"ok": false, "error": "..."}`) is rejected with
//! Snyk's message.
//!
//! # Field mapping
//!
//! - `id` (`SNYK-JAVA-...`) -> `rule_id` and the first vulnerability id;
//!   `identifiers` (`CVE`, `GHSA`, and the other lists: numeric ids such
//!   as `NSP` get their list name as a prefix) -> more ids;
//!   `identifiers.CWE` -> `cwes`.
//! - `type` `license` -> kind `License` (its id is no vulnerability id),
//!   else `Vulnerability`.
//! - `title` with `packageName` and `version` -> `title`; `severity` ->
//!   `severity` (else the highest CVSS score).
//! - `CVSSv3`, `cvssDetails[].cvssV3Vector` and `cvssSources[].vector` ->
//!   `cvss`; `cvssScore` -> the attribute `cvss_score`.
//! - `packageName`, `version`, `packageManager` -> `component`, with a
//!   purl for the package managers whose purl type is known (npm, Maven,
//!   PyPI, NuGet, RubyGems, Composer, CocoaPods, Go, Hex, Cargo).
//! - `fixedIn` -> `fix.fixed_versions`; the first upgrade of `upgradePath`
//!   -> `fix.description`.
//! - `references[].url` -> `references`; `description` -> `description`.
//! - `from` (the dependency path, `app@1.0 > lib@2.0 > vulnerable@3.0`) ->
//!   the attribute `dependency_path`; `displayTargetFile` -> `location.path`.
//! - `epssDetails.probability` and `percentile` -> `epss` and
//!   `epss_percentile`; `exploit`, `language`, `isUpgradable`,
//!   `isPatchable`, `malicious` -> attributes.
//! - Assets: the scanned project (a repository keyed by `path`) or, for
//!   container scans, the image (keyed by `projectName` without its
//!   `docker-image|` prefix), and one component per vulnerable package
//!   that it contains.
//!
//! Snyk lists a vulnerability once per dependency path that pulls the
//! package in. Each path is its own finding: upgrading the direct
//! dependency of one path may leave the other paths vulnerable, and each
//! path is fixed by its own upgrade.
//!
//! # Scope target
//!
//! A project covers its manifest: `path` joined with `displayTargetFile`
//! (with `/` as the separator), so that scanning one project of a folder
//! does not close the findings of the folder's other projects. A container
//! scan covers the image, including its applications. A project without
//! `path` uses [`ParseContext::default_target`].
//!
//! # Fingerprint
//!
//! The tool `snyk`, the Snyk id, the project or image asset, the component
//! (purl, else name and version), the manifest path, and as the tool
//! fingerprint the dependency path with the versions removed
//! (`com.acme:shop > org.apache.santuario:xmlsec`): the versions of the
//! root project and of the packages between it and the vulnerable one
//! change with every release, while the vulnerable package's version is in
//! the component.
//!
//! # Not read yet
//!
//! `filtered.ignore` and `filtered.patch` (vulnerabilities that a policy
//! ignored or patched), `remediation` (the grouped upgrade advice),
//! `semver`, `patches`, `functions`, `licensesPolicy`, and Snyk Code
//! (`snyk code test --json` writes SARIF, which the SARIF parser reads).
//!
//! # Reference
//!
//! <https://docs.snyk.io/snyk-cli/commands/test> and
//! <https://docs.snyk.io/snyk-cli/commands/container-test>.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::io::BufRead;

use ctem_model::{Asset, AssetKey, AssetKind, Component, Finding, FindingKind, Purl, Severity};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::report_shared::{self, AssetSet, EachElement, null_as_default};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "snyk-json";
const TOOL: &str = "snyk";

/// The prefix of the project name of a `snyk container test` report.
const IMAGE_PREFIX: &str = "docker-image|";

/// The Snyk JSON parser.
pub struct SnykJson;

impl Parser for SnykJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Snyk JSON",
            tool: "Snyk CLI (Snyk Open Source, Snyk Container)",
            versions: "Snyk CLI 1.x `test --json`, `test --all-projects --json`, `container test --json`",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        let has = |key: &[u8]| util::contains(head, key);
        if !head.starts_with(b"{") && !head.starts_with(b"[") {
            return Detection::No;
        }
        let project = has(b"\"vulnerabilities\"") && has(b"\"packageManager\"");
        let snyk_marks = has(b"\"isUpgradable\"")
            || has(b"\"upgradePath\"")
            || has(b"\"licensesPolicy\"")
            || has(b"\"dependencyCount\"")
            || has(b"\"SNYK-");
        if project && snyk_marks {
            Detection::Certain
        } else if head.starts_with(b"{") && has(b"\"ok\"") && has(b"\"error\"") && has(b"\"path\"") {
            // The shape of a Snyk CLI error report, which parse rejects
            // with Snyk's message.
            Detection::Maybe
        } else {
            Detection::No
        }
    }

    fn parse(
        &self,
        context: &ParseContext<'_>,
        reader: &mut dyn BufRead,
        sink: &mut dyn Sink,
    ) -> Result<(), ParseError> {
        let mut emitter = Emitter {
            sink,
            default_target: context.default_target,
            assets: AssetSet::default(),
            seen: HashSet::new(),
        };
        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        DocumentSeed { emitter: &mut emitter }
            .deserialize(&mut deserializer)
            .and_then(|()| deserializer.end())
            .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))
    }
}

// ---------------------------------------------------------------------------
// Report records, deserialized leniently.
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Vulnerability {
    id: Option<String>,
    title: Option<String>,
    #[serde(rename = "type")]
    issue_type: Option<String>,
    severity: Option<String>,
    package_name: Option<String>,
    version: Option<String>,
    package_manager: Option<String>,
    language: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    from: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    upgrade_path: Vec<UpgradeStep>,
    is_upgradable: Option<bool>,
    is_patchable: Option<bool>,
    malicious: Option<bool>,
    #[serde(deserialize_with = "null_as_default")]
    identifiers: BTreeMap<String, Vec<LooseText>>,
    #[serde(deserialize_with = "util::loose_text")]
    cvss_score: Option<String>,
    #[serde(rename = "CVSSv3")]
    cvss_v3: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    cvss_details: Vec<CvssDetail>,
    #[serde(deserialize_with = "null_as_default")]
    cvss_sources: Vec<CvssSource>,
    #[serde(deserialize_with = "null_as_default")]
    fixed_in: Vec<String>,
    description: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    references: Vec<Reference>,
    exploit: Option<String>,
    epss_details: Option<EpssDetails>,
}

/// An element of `upgradePath`: `false` where no upgrade of that
/// dependency is needed, else `name@version`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum UpgradeStep {
    Package(String),
    Other(IgnoredAny),
}

/// A string or a number, such as the numeric ids of `identifiers.NSP`.
#[derive(Debug, Deserialize)]
struct LooseText(#[serde(deserialize_with = "util::loose_text")] Option<String>);

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct CvssDetail {
    cvss_v3_vector: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CvssSource {
    vector: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Reference {
    url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EpssDetails {
    #[serde(deserialize_with = "util::loose_text")]
    probability: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    percentile: Option<String>,
}

/// The fields of a project that name what was scanned.
#[derive(Debug, Default)]
struct ProjectFacts {
    project_name: Option<String>,
    display_target_file: Option<String>,
    target_file: Option<String>,
    path: Option<String>,
    package_manager: Option<String>,
    /// Whether the project is a container image (`docker` is present).
    docker: bool,
    error: Option<String>,
    has_vulnerabilities: bool,
}

/// One project as read: its facts, the findings that wait for them, and
/// the application projects of a container scan.
#[derive(Default)]
struct Project {
    facts: ProjectFacts,
    pending: Vec<(Finding, Component)>,
    applications: Vec<Project>,
}

// ---------------------------------------------------------------------------
// Normalizing records.
// ---------------------------------------------------------------------------

/// The asset and scope target of a project's findings.
struct Scope {
    asset: AssetKey,
    target: String,
}

struct Emitter<'a> {
    sink: &'a mut dyn Sink,
    default_target: &'a str,
    assets: AssetSet,
    /// (target, id, package, version, dependency path) of every finding sent.
    seen: HashSet<(String, String, String, String, String)>,
}

impl Emitter<'_> {
    /// Declares the scope of a project, sends its assets and its findings,
    /// then those of its applications.
    fn flush(&mut self, project: Project) -> Result<(), String> {
        let Project {
            facts,
            pending,
            applications,
        } = project;
        if let Some(error) = &facts.error
            && !facts.has_vulnerabilities
        {
            return Err(format!(
                "the Snyk CLI reported an error instead of test results: {error}; fix the cause and run the \
                 scan again"
            ));
        }

        let scope = self.project_scope(&facts);
        self.send_all(&scope, &facts, pending);
        for application in applications {
            if application.facts.error.is_some() && !application.facts.has_vulnerabilities {
                continue;
            }
            self.send_all(&scope, &application.facts, application.pending);
        }
        Ok(())
    }

    fn project_scope(&mut self, facts: &ProjectFacts) -> Scope {
        let image_name = facts
            .project_name
            .as_deref()
            .and_then(|name| name.strip_prefix(IMAGE_PREFIX))
            .and_then(|name| util::non_empty(Some(name)));
        let (asset, target) = if facts.docker || image_name.is_some() {
            let name = image_name
                .or_else(|| util::non_empty(facts.project_name.as_deref()))
                .or_else(|| util::non_empty(facts.path.as_deref()))
                .unwrap_or_else(|| self.default_target.to_string());
            let asset = Asset::new(AssetKind::ContainerImage, &name, name.clone());
            (asset, name)
        } else {
            let path = util::non_empty(facts.path.as_deref()).map(|path| slashes(&path));
            let manifest = manifest(facts);
            let target = match (&path, &manifest) {
                (Some(path), Some(manifest)) => format!("{}/{manifest}", path.trim_end_matches('/')),
                (Some(path), None) => path.clone(),
                (None, _) => self.default_target.to_string(),
            };
            let identifier = path.unwrap_or_else(|| self.default_target.to_string());
            let mut asset = Asset::new(AssetKind::Repository, &identifier, identifier.clone());
            if let Some(name) = util::non_empty(facts.project_name.as_deref()) {
                asset.attributes.insert("project".into(), name);
            }
            (asset, target)
        };
        let key = asset.key.clone();
        self.assets.send(self.sink, asset);
        self.sink.target(TOOL, &target);
        Scope { asset: key, target }
    }

    fn send_all(&mut self, scope: &Scope, facts: &ProjectFacts, pending: Vec<(Finding, Component)>) {
        let manifest = manifest(facts);
        for (mut finding, mut component) in pending {
            let identity = (
                scope.target.clone(),
                finding.rule_id.clone(),
                component.name.clone(),
                component.version.clone().unwrap_or_default(),
                finding.tool_fingerprint.clone().unwrap_or_default(),
            );
            if !self.seen.insert(identity) {
                continue;
            }
            if component.ecosystem.is_none() {
                component.ecosystem = util::non_empty(facts.package_manager.as_deref());
            }
            finding.asset = scope.asset.clone();
            finding.target = Some(scope.target.clone());
            finding.location.path = manifest.clone();
            self.assets.send_component(self.sink, &scope.asset, &component);
            finding.component = Some(component);
            self.sink.finding(finding);
        }
    }
}

/// Returns the manifest a project was read from, with `/` as the separator.
fn manifest(facts: &ProjectFacts) -> Option<String> {
    util::non_empty(facts.display_target_file.as_deref())
        .or_else(|| util::non_empty(facts.target_file.as_deref()))
        .map(|file| slashes(&file))
}

/// Writes a Windows path with `/`, so that the same project scanned on two
/// systems has one target.
fn slashes(path: &str) -> String {
    path.replace('\\', "/")
}

/// Removes the version from a dependency of `from` (`@babel/core@7.8.3`
/// is `@babel/core`; the `@` of an npm scope stays).
fn without_version(dependency: &str) -> &str {
    match dependency.rfind('@') {
        Some(index) if index > 0 => &dependency[..index],
        _ => dependency,
    }
}

/// Builds the purl of a package where its package manager has a purl type.
fn package_url(manager: Option<&str>, name: &str, version: Option<&str>) -> Option<Purl> {
    let manager = manager?.to_ascii_lowercase();
    let purl_type = match manager.as_str() {
        "npm" | "yarn" | "pnpm" => "npm",
        "maven" | "gradle" | "sbt" => "maven",
        "pip" | "poetry" | "pipenv" => "pypi",
        "nuget" | "paket" => "nuget",
        "rubygems" => "gem",
        "composer" => "composer",
        "cocoapods" => "cocoapods",
        "golang" | "gomodules" | "govendor" => "golang",
        "hex" => "hex",
        "cargo" => "cargo",
        _ => return None,
    };
    let path = match purl_type {
        "maven" => name.replacen(':', "/", 1),
        "npm" => match name.strip_prefix('@') {
            Some(scoped) => format!("%40{scoped}"),
            None => name.to_string(),
        },
        _ => name.to_string(),
    };
    let text = match version {
        Some(version) => format!("pkg:{purl_type}/{path}@{version}"),
        None => format!("pkg:{purl_type}/{path}"),
    };
    text.parse().ok()
}

/// Normalizes one vulnerability, before its project is known.
fn normalize(record: Vulnerability) -> Result<(Finding, Component), String> {
    let Some(id) = util::non_empty(record.id.as_deref()) else {
        return Err("a vulnerability has no id".to_string());
    };
    let name = util::non_empty(record.package_name.as_deref())
        .or_else(|| record.from.last().map(|last| without_version(last).to_string()))
        .ok_or_else(|| format!("the vulnerability {id} names no package (packageName)"))?;
    let version = util::non_empty(record.version.as_deref());
    let license = record.issue_type.as_deref() == Some("license");

    let issue = util::non_empty(record.title.as_deref()).unwrap_or_else(|| id.clone());
    let title = match &version {
        Some(version) => format!("{issue} in {name} {version}"),
        None => format!("{issue} in {name}"),
    };
    let kind = if license {
        FindingKind::License
    } else {
        FindingKind::Vulnerability
    };
    let placeholder = AssetKey::new(AssetKind::Other, "");
    let mut finding = Finding::new(TOOL, &id, kind, title, Severity::Info, placeholder);

    if !license {
        util::add_vulnerability_id(&mut finding, &id);
    }
    for (list, values) in &record.identifiers {
        for value in values.iter().filter_map(|value| util::non_empty(value.0.as_deref())) {
            if list.eq_ignore_ascii_case("CWE") {
                util::add_cwe(&mut finding, &value);
            } else if value.bytes().all(|b| b.is_ascii_digit()) {
                util::add_vulnerability_id(&mut finding, &format!("{list}-{value}"));
            } else {
                util::add_vulnerability_id(&mut finding, &value);
            }
        }
    }
    let vectors = record
        .cvss_v3
        .iter()
        .chain(
            record
                .cvss_details
                .iter()
                .filter_map(|detail| detail.cvss_v3_vector.as_ref()),
        )
        .chain(record.cvss_sources.iter().filter_map(|source| source.vector.as_ref()));
    for vector in vectors {
        util::add_cvss(&mut finding, vector);
    }
    finding.severity = util::severity_or_cvss(report_shared::severity_word(record.severity.as_deref()), &finding);
    finding.description = util::non_empty(record.description.as_deref());
    finding.references = record
        .references
        .iter()
        .filter_map(|reference| util::non_empty(reference.url.as_deref()))
        .collect();

    finding.fix.fixed_versions = record
        .fixed_in
        .iter()
        .filter_map(|version| util::non_empty(Some(version)))
        .collect();
    finding.fix.description = upgrade_advice(&record.upgrade_path, record.is_patchable);
    if !record.from.is_empty() {
        let names: Vec<&str> = record
            .from
            .iter()
            .map(|dependency| without_version(dependency))
            .collect();
        finding.tool_fingerprint = Some(names.join(" > "));
        finding
            .attributes
            .insert("dependency_path".into(), record.from.join(" > "));
    }

    let epss = record.epss_details.unwrap_or_default();
    let flag = |value: Option<bool>| value.map(|value| value.to_string());
    let attributes = [
        ("cvss_score", record.cvss_score),
        ("epss", epss.probability),
        ("epss_percentile", epss.percentile),
        ("exploit", record.exploit),
        ("language", record.language),
        ("upgradable", flag(record.is_upgradable)),
        ("patchable", flag(record.is_patchable)),
        ("malicious", flag(record.malicious.filter(|malicious| *malicious))),
    ];
    for (attribute, value) in attributes {
        if let Some(value) = util::non_empty(value.as_deref()) {
            finding.attributes.insert(attribute.to_string(), value);
        }
    }

    let component = Component {
        purl: package_url(record.package_manager.as_deref(), &name, version.as_deref()),
        name,
        version,
        ecosystem: util::non_empty(record.package_manager.as_deref()),
    };
    Ok((finding, component))
}

/// Describes the upgrade that fixes a dependency path: the first package of
/// `upgradePath` that needs one (the direct dependency to upgrade), and
/// where it differs, the version of the vulnerable package it brings.
fn upgrade_advice(path: &[UpgradeStep], patchable: Option<bool>) -> Option<String> {
    let steps: Vec<&str> = path
        .iter()
        .filter_map(|step| match step {
            UpgradeStep::Package(package) => util::non_empty(Some(package)).map(|_| package.as_str()),
            UpgradeStep::Other(_) => None,
        })
        .collect();
    match (steps.first(), steps.last()) {
        (Some(first), Some(last)) if first != last => Some(format!("Upgrade {first}, which brings {last}.")),
        (Some(first), _) => Some(format!("Upgrade to {first}.")),
        _ if patchable == Some(true) => Some("Apply the Snyk patch (`snyk protect`).".to_string()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Streaming: the document, each project and its vulnerabilities.
// ---------------------------------------------------------------------------

/// The whole document: one project object or an array of projects.
struct DocumentSeed<'s, 'a> {
    emitter: &'s mut Emitter<'a>,
}

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Snyk JSON report: a project object or an array of project objects")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let project = ProjectSeed { nested: false }.visit_map(map)?;
        self.emitter.flush(project).map_err(de::Error::custom)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(project) = seq.next_element_seed(ProjectSeed { nested: false })? {
            self.emitter.flush(project).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

/// One project object. Its vulnerabilities are normalized as they are
/// read; they wait in the project for the fields that name their scope,
/// which Snyk writes after them.
struct ProjectSeed {
    /// Whether this is an application project inside a container scan.
    nested: bool,
}

impl<'de> DeserializeSeed<'de> for ProjectSeed {
    type Value = Project;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Project, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ProjectSeed {
    type Value = Project;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Snyk project object with vulnerabilities")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Project, A::Error> {
        let mut project = Project::default();
        let mut other_keys = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let facts = &mut project.facts;
            match key.as_str() {
                "vulnerabilities" => {
                    let pending = &mut project.pending;
                    let mut handle = |record: Vulnerability| {
                        pending.push(normalize(record)?);
                        Ok(())
                    };
                    map.next_value_seed(EachElement::new("an array of Snyk vulnerabilities", &mut handle))?;
                    facts.has_vulnerabilities = true;
                }
                "applications" if !self.nested => {
                    let applications = &mut project.applications;
                    let mut handle = |application: Project| {
                        applications.push(application);
                        Ok(())
                    };
                    map.next_value_seed(ApplicationsSeed { handle: &mut handle })?;
                }
                "projectName" => facts.project_name = map.next_value()?,
                "displayTargetFile" => facts.display_target_file = map.next_value()?,
                "targetFile" => facts.target_file = map.next_value()?,
                "path" => facts.path = map.next_value()?,
                "packageManager" => facts.package_manager = map.next_value()?,
                "docker" => {
                    map.next_value::<IgnoredAny>()?;
                    facts.docker = true;
                }
                "error" => {
                    let error: Option<ErrorText> = map.next_value()?;
                    facts.error = error.and_then(|error| error.0);
                }
                _ => {
                    report_shared::remember_key(&mut other_keys, &key);
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !project.facts.has_vulnerabilities && project.facts.error.is_none() {
            return Err(de::Error::custom(format!(
                "not a Snyk test report: expected a project object with a vulnerabilities array, found {}",
                report_shared::found_keys(&other_keys)
            )));
        }
        Ok(project)
    }
}

/// Snyk's error text: a string, or `no message` where the report has
/// another type.
#[derive(Debug)]
struct ErrorText(Option<String>);

impl<'de> Deserialize<'de> for ErrorText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        util::loose_text(deserializer).map(|text| ErrorText(Some(text.unwrap_or_else(|| "no message".to_string()))))
    }
}

/// The `applications` array of a container scan.
struct ApplicationsSeed<'h, F> {
    handle: &'h mut F,
}

impl<'de, F: FnMut(Project) -> Result<(), String>> DeserializeSeed<'de> for ApplicationsSeed<'_, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(Project) -> Result<(), String>> Visitor<'de> for ApplicationsSeed<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of Snyk application projects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(application) = seq.next_element_seed(ProjectSeed { nested: true })? {
            (self.handle)(application).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_leave_dependency_names() {
        assert_eq!(without_version("@babel/core@7.8.3"), "@babel/core");
        assert_eq!(without_version("com.acme:shop@1.0.0-SNAPSHOT"), "com.acme:shop");
        assert_eq!(without_version("@angular/localize"), "@angular/localize");
        assert_eq!(without_version("docker-image|acme/web@latest"), "docker-image|acme/web");
    }

    #[test]
    fn purls_of_known_managers() {
        let maven = package_url(Some("maven"), "org.apache.santuario:xmlsec", Some("2.1.1")).expect("maven");
        assert_eq!(maven.as_str(), "pkg:maven/org.apache.santuario/xmlsec@2.1.1");
        let npm = package_url(Some("npm"), "@babel/core", Some("7.8.3")).expect("npm");
        assert_eq!(npm.namespace(), Some("@babel"));
        assert_eq!(npm.name(), "core");
        assert!(package_url(Some("deb"), "gcc-10/libgcc-s1", Some("10.2.1-6")).is_none());
        assert!(package_url(None, "x", None).is_none());
    }

    #[test]
    fn upgrade_names_direct_dependency() {
        let path = vec![
            UpgradeStep::Other(IgnoredAny),
            UpgradeStep::Package("react-scripts@5.0.0".into()),
            UpgradeStep::Package("shell-quote@1.7.3".into()),
        ];
        assert_eq!(
            upgrade_advice(&path, Some(false)).as_deref(),
            Some("Upgrade react-scripts@5.0.0, which brings shell-quote@1.7.3.")
        );
        assert_eq!(
            upgrade_advice(&[], Some(true)).as_deref(),
            Some("Apply the Snyk patch (`snyk protect`).")
        );
        assert_eq!(upgrade_advice(&[], Some(false)), None);
    }
}
