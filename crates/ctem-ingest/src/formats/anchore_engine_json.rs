//! Anchore Engine JSON reports: `anchore-cli --json image vuln <image> all`
//! and the newer `anchorectl image vulnerabilities` export.
//!
//! # Reads
//!
//! - The anchore-cli output of Anchore Engine 0.x and Anchore Enterprise
//!   up to 4.x: `imageDigest`, `vulnerability_type` and `vulnerabilities`,
//!   each with `vuln`, `package`, `package_name`, `package_version`,
//!   `package_type`, `package_path`, `severity`, `fix`, `url`, `feed`,
//!   `feed_group`, `nvd_data` and `vendor_data`.
//! - The anchorectl export of Anchore Enterprise 5: `metadata` (`registry`,
//!   `repository`, `tag`, `imageDigest`) and `securityEvaluation`, each with
//!   `vulnerabilityId`, `cves`, `severity`, `packageType`, `path`,
//!   `package`, `fixAvailable`, `link` and `nvdCvssBaseScore`.
//!
//! # Field mapping
//!
//! - `vuln` / `vulnerabilityId` -> `rule_id` and the first vulnerability
//!   id; `cves` (comma separated) and `nvd_data[].id` -> more ids.
//! - `severity` -> `severity` (`Negligible` and `Unknown` are `Info`); a
//!   missing or unknown word falls back to the highest CVSS base score of
//!   `nvd_data`, `vendor_data` or `nvdCvssBaseScore`.
//! - `nvd_data[].cvss_v2|cvss_v3.vector_string` (where the engine wrote
//!   one) -> `cvss`; the base scores -> the attributes `cvss_v2_score` and
//!   `cvss_v3_score` (-1 means none, so it is skipped).
//! - `package_name`, `package_version`, `package_type` -> `component`. The
//!   anchorectl `package` joins name and version (`openssl-libs-1:1.1.1k-14.el8_6`):
//!   RPM packages split before the last two hyphens (name, version with
//!   its epoch, release), other packages before the last hyphen that a
//!   digit follows. The whole text is kept as the attribute `package`.
//! - `package_path` / `path` -> `location.path` (`None` and anchorectl's
//!   `pkgdb`, the OS package database, are no path).
//! - `fix` / `fixAvailable` (comma separated, `None` when there is no fix)
//!   -> `fix.fixed_versions`; `url` / `link` -> `references`.
//! - `feed`, `feed_group`, `package_cpe`, `package_cpe23` -> attributes.
//! - Assets: the image, and one component per vulnerable package that the
//!   image contains. The anchore-cli image is keyed by `imageDigest` (its
//!   only name in the report); the anchorectl image by
//!   `registry/repository:tag`, with the digest as `image_digest`.
//!
//! # Scope target
//!
//! The image: `registry/repository:tag` for anchorectl, `imageDigest` for
//! anchore-cli, else [`ParseContext::default_target`].
//!
//! # Fingerprint
//!
//! The tool `anchore`, the vulnerability id, the image, the package name
//! and version and the package path.
//!
//! # Not read yet
//!
//! `detectedAt`, `fixObservedAt`, the exploitability and impact
//! sub-scores, and the policy evaluation (`anchore-cli evaluate check`),
//! which is another document.
//!
//! # Reference
//!
//! <https://docs.anchore.com/current/docs/using/cli_usage/images/inspecting_image_content/>
//! and the anchore-cli source, <https://github.com/anchore/anchore-cli>.

use std::collections::HashSet;
use std::fmt;
use std::io::BufRead;

use ctem_model::{Asset, AssetKey, AssetKind, Component, Finding, FindingKind, Severity};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::report_shared::{self, AssetSet, EachElement, null_as_default, present};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "anchore-engine-json";
const TOOL: &str = "anchore";

/// The Anchore Engine JSON parser.
pub struct AnchoreEngineJson;

impl Parser for AnchoreEngineJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Anchore Engine JSON",
            tool: "Anchore Engine, Anchore Enterprise (anchore-cli, anchorectl)",
            versions: "anchore-cli `image vuln` JSON; anchorectl vulnerabilities export (Enterprise 5)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        let has = |key: &[u8]| util::contains(head, key);
        if !head.starts_with(b"{") {
            return Detection::No;
        }
        let cli = has(b"\"imageDigest\"") && has(b"\"vulnerabilities\"") && has(b"\"vulnerability_type\"");
        let cli_record = has(b"\"package_name\"") && has(b"\"feed_group\"");
        let anchorectl = has(b"\"securityEvaluation\"") && has(b"\"vulnerabilityId\"");
        if cli || cli_record || anchorectl {
            Detection::Certain
        } else if has(b"\"imageDigest\"") && has(b"\"securityEvaluation\"") {
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
            image: None,
            pending: Vec::new(),
            assets: AssetSet::default(),
            seen: HashSet::new(),
        };
        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        ReportSeed { emitter: &mut emitter }
            .deserialize(&mut deserializer)
            .and_then(|()| deserializer.end())
            .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))
    }
}

// ---------------------------------------------------------------------------
// Report records, deserialized leniently.
// ---------------------------------------------------------------------------

/// One record of the anchore-cli `vulnerabilities` array.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CliVulnerability {
    vuln: Option<String>,
    package: Option<String>,
    package_name: Option<String>,
    package_version: Option<String>,
    package_type: Option<String>,
    package_path: Option<String>,
    package_cpe: Option<String>,
    package_cpe23: Option<String>,
    severity: Option<String>,
    fix: Option<String>,
    url: Option<String>,
    feed: Option<String>,
    feed_group: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    nvd_data: Vec<CvssData>,
    #[serde(deserialize_with = "null_as_default")]
    vendor_data: Vec<CvssData>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CvssData {
    id: Option<String>,
    cvss_v2: Option<CvssScores>,
    cvss_v3: Option<CvssScores>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CvssScores {
    base_score: Option<f64>,
    #[serde(alias = "vector")]
    vector_string: Option<String>,
    version: Option<String>,
}

/// One record of the anchorectl `securityEvaluation` array.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Evaluation {
    vulnerability_id: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    cves: Option<String>,
    severity: Option<String>,
    package_type: Option<String>,
    path: Option<String>,
    package: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    fix_available: Option<String>,
    link: Option<String>,
    /// A number, or `N/A` where NVD has no score.
    #[serde(deserialize_with = "util::loose_text")]
    nvd_cvss_base_score: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Metadata {
    registry: Option<String>,
    repository: Option<String>,
    tag: Option<String>,
    image_digest: Option<String>,
}

// ---------------------------------------------------------------------------
// Normalizing records.
// ---------------------------------------------------------------------------

/// A finding and the component it names, before the image is known.
struct Pending {
    finding: Finding,
    component: Option<Component>,
}

struct Emitter<'a> {
    sink: &'a mut dyn Sink,
    default_target: &'a str,
    /// The image's key and the scope target, once known.
    image: Option<(AssetKey, String)>,
    pending: Vec<Pending>,
    assets: AssetSet,
    /// (vulnerability, package, version, path) of every record sent.
    seen: HashSet<(String, String, String, String)>,
}

impl Emitter<'_> {
    /// Declares the image's scope, sends its asset and the findings that
    /// waited for it.
    fn set_image(&mut self, asset: Asset, target: String) {
        self.sink.target(TOOL, &target);
        let key = asset.key.clone();
        self.assets.send(self.sink, asset);
        self.image = Some((key, target));
        for pending in std::mem::take(&mut self.pending) {
            self.send(pending.finding, pending.component);
        }
    }

    fn handle(&mut self, finding: Finding, component: Option<Component>) {
        let identity = (
            finding.rule_id.clone(),
            component.as_ref().map(|c| c.name.clone()).unwrap_or_default(),
            component.as_ref().and_then(|c| c.version.clone()).unwrap_or_default(),
            finding.location.path.clone().unwrap_or_default(),
        );
        if !self.seen.insert(identity) {
            return;
        }
        if self.image.is_some() {
            self.send(finding, component);
        } else {
            self.pending.push(Pending { finding, component });
        }
    }

    fn send(&mut self, mut finding: Finding, component: Option<Component>) {
        let Some((key, target)) = &self.image else {
            return;
        };
        finding.asset = key.clone();
        finding.target = Some(target.clone());
        if let Some(component) = &component {
            self.assets.send_component(self.sink, key, component);
        }
        finding.component = component;
        self.sink.finding(finding);
    }
}

/// Builds a finding with a placeholder asset, which [`Emitter::send`] sets.
fn new_finding(id: &str, component: Option<&Component>) -> Finding {
    let title = match component {
        Some(Component {
            name,
            version: Some(version),
            ..
        }) => format!("{id} in {name} {version}"),
        Some(component) => format!("{id} in {}", component.name),
        None => id.to_string(),
    };
    let placeholder = AssetKey::new(AssetKind::Other, "");
    let mut finding = Finding::new(TOOL, id, FindingKind::Vulnerability, title, Severity::Info, placeholder);
    util::add_vulnerability_id(&mut finding, id);
    finding
}

/// Rates a finding by the report's severity word, else by its highest
/// CVSS vector or score.
fn severity(word: Option<&str>, scores: &[f64], finding: &Finding) -> Severity {
    let from_scores = scores
        .iter()
        .copied()
        .filter(|score| *score >= 0.0)
        .max_by(f64::total_cmp)
        .map(Severity::from_cvss_score);
    match report_shared::severity_word(word) {
        Some(word) => util::severity_or_cvss(Some(word), finding),
        None if finding.max_cvss().is_some() => util::severity_or_cvss(None, finding),
        None => from_scores.unwrap_or(Severity::Info),
    }
}

fn fixed_versions(text: Option<&str>) -> Vec<String> {
    present(text)
        .map(|text| text.split(',').filter_map(|version| present(Some(version))).collect())
        .unwrap_or_default()
}

fn cli_finding(record: CliVulnerability) -> Result<(Finding, Option<Component>), String> {
    let Some(id) = util::non_empty(record.vuln.as_deref()) else {
        return Err("a vulnerability has no vuln id".to_string());
    };
    let component = present(record.package_name.as_deref())
        .map(|name| Component {
            name,
            version: present(record.package_version.as_deref()),
            purl: None,
            ecosystem: present(record.package_type.as_deref()),
        })
        .or_else(|| present(record.package.as_deref()).map(|package| split_package(&package, None)));
    let mut finding = new_finding(&id, component.as_ref());

    let mut scores = Vec::new();
    for data in record.nvd_data.iter().chain(&record.vendor_data) {
        if let Some(other) = data.id.as_deref() {
            util::add_vulnerability_id(&mut finding, other);
        }
        for (name, cvss) in [("cvss_v2_score", &data.cvss_v2), ("cvss_v3_score", &data.cvss_v3)] {
            let Some(cvss) = cvss else {
                continue;
            };
            if let Some(vector) = present(cvss.vector_string.as_deref()) {
                util::add_cvss(
                    &mut finding,
                    &report_shared::prefixed_vector(&vector, cvss.version.as_deref()),
                );
            }
            if let Some(score) = cvss.base_score.filter(|score| *score >= 0.0) {
                scores.push(score);
                finding
                    .attributes
                    .entry(name.to_string())
                    .or_insert_with(|| score.to_string());
            }
        }
    }
    finding.severity = severity(record.severity.as_deref(), &scores, &finding);
    finding.location.path = present(record.package_path.as_deref());
    finding.fix.fixed_versions = fixed_versions(record.fix.as_deref());
    finding.references.extend(present(record.url.as_deref()));
    let attributes = [
        ("feed", record.feed),
        ("feed_group", record.feed_group),
        ("package_cpe", record.package_cpe),
        ("package_cpe23", record.package_cpe23),
    ];
    for (name, value) in attributes {
        if let Some(value) = present(value.as_deref()) {
            finding.attributes.insert(name.to_string(), value);
        }
    }
    Ok((finding, component))
}

fn evaluation_finding(record: Evaluation) -> Result<(Finding, Option<Component>), String> {
    let Some(id) = util::non_empty(record.vulnerability_id.as_deref()) else {
        return Err("a securityEvaluation record has no vulnerabilityId".to_string());
    };
    let package = present(record.package.as_deref());
    let package_type = present(record.package_type.as_deref());
    let component = package
        .as_deref()
        .map(|package| split_package(package, package_type.as_deref()));
    let mut finding = new_finding(&id, component.as_ref());

    for cve in record.cves.as_deref().unwrap_or_default().split(',') {
        util::add_vulnerability_id(&mut finding, cve);
    }
    let score = record
        .nvd_cvss_base_score
        .as_deref()
        .and_then(|score| score.trim().parse::<f64>().ok())
        .filter(|score| (0.0..=10.0).contains(score));
    if let Some(score) = score {
        finding
            .attributes
            .insert("nvd_cvss_base_score".into(), score.to_string());
    }
    finding.severity = severity(record.severity.as_deref(), score.as_slice(), &finding);
    // `pkgdb` stands for the OS package database, which is no file path.
    finding.location.path = present(record.path.as_deref()).filter(|path| path != "pkgdb");
    finding.fix.fixed_versions = fixed_versions(record.fix_available.as_deref());
    finding.references.extend(present(record.link.as_deref()));
    if let Some(package) = package {
        finding.attributes.insert("package".into(), package);
    }
    Ok((finding, component))
}

/// Splits an anchorectl `package` into name and version (see the module
/// documentation). Text without a version stays the name.
fn split_package(package: &str, package_type: Option<&str>) -> Component {
    let rpm = package_type.is_some_and(|kind| kind.eq_ignore_ascii_case("rpm"));
    let split = if rpm {
        package
            .rfind('-')
            .and_then(|release| package[..release].rfind('-'))
            .filter(|index| *index > 0)
    } else {
        package
            .rmatch_indices('-')
            .map(|(index, _)| index)
            .find(|index| *index > 0 && package[index + 1..].starts_with(|c: char| c.is_ascii_digit()))
    };
    let (name, version) = match split {
        Some(index) => (&package[..index], Some(package[index + 1..].to_string())),
        None => (package, None),
    };
    Component {
        name: name.to_string(),
        version,
        purl: None,
        ecosystem: package_type.map(|kind| kind.to_ascii_lowercase()),
    }
}

/// Builds the image asset and scope target of an anchorectl `metadata` object.
fn metadata_image(metadata: &Metadata, default_target: &str) -> (Asset, String) {
    let digest = present(metadata.image_digest.as_deref());
    let repository = present(metadata.repository.as_deref());
    let reference = repository.map(|repository| {
        let mut reference = match present(metadata.registry.as_deref()) {
            Some(registry) => format!("{registry}/{repository}"),
            None => repository,
        };
        if let Some(tag) = present(metadata.tag.as_deref()) {
            reference = format!("{reference}:{tag}");
        }
        reference
    });
    let target = reference
        .clone()
        .or_else(|| digest.clone())
        .unwrap_or_else(|| default_target.to_string());
    let mut asset = Asset::new(AssetKind::ContainerImage, &target, target.clone());
    if let Some(digest) = digest {
        asset.add_identifier("image_digest", digest);
    }
    if let Some(reference) = reference {
        asset.add_identifier("repo_tag", reference);
    }
    (asset, target)
}

/// Builds the image asset and scope target of an anchore-cli report,
/// which names the image by its digest only.
fn digest_image(digest: Option<&str>, default_target: &str) -> (Asset, String) {
    let digest = present(digest);
    let target = digest.clone().unwrap_or_else(|| default_target.to_string());
    let mut asset = Asset::new(AssetKind::ContainerImage, &target, target.clone());
    if let Some(digest) = digest {
        asset.add_identifier("image_digest", digest);
    }
    (asset, target)
}

// ---------------------------------------------------------------------------
// Streaming: the top-level object and its arrays.
// ---------------------------------------------------------------------------

struct ReportSeed<'s, 'a> {
    emitter: &'s mut Emitter<'a>,
}

impl<'de> DeserializeSeed<'de> for ReportSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ReportSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "an Anchore report: an object with imageDigest and vulnerabilities, or metadata and securityEvaluation",
        )
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let emitter = self.emitter;
        let default_target = emitter.default_target;
        let mut has_records = false;
        let mut other_keys = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "imageDigest" => {
                    let digest: Option<String> = map.next_value()?;
                    if emitter.image.is_none() {
                        let (asset, target) = digest_image(digest.as_deref(), default_target);
                        emitter.set_image(asset, target);
                    }
                }
                "metadata" => {
                    let metadata: Option<Metadata> = map.next_value()?;
                    if emitter.image.is_none() {
                        let (asset, target) = metadata_image(&metadata.unwrap_or_default(), default_target);
                        emitter.set_image(asset, target);
                    }
                }
                "vulnerabilities" => {
                    let mut handle = |record: CliVulnerability| {
                        let (finding, component) = cli_finding(record)?;
                        emitter.handle(finding, component);
                        Ok(())
                    };
                    map.next_value_seed(EachElement::new("an array of Anchore vulnerabilities", &mut handle))?;
                    has_records = true;
                }
                "securityEvaluation" => {
                    let mut handle = |record: Evaluation| {
                        let (finding, component) = evaluation_finding(record)?;
                        emitter.handle(finding, component);
                        Ok(())
                    };
                    map.next_value_seed(EachElement::new("an array of anchorectl evaluations", &mut handle))?;
                    has_records = true;
                }
                _ => {
                    report_shared::remember_key(&mut other_keys, &key);
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        if !has_records {
            return Err(de::Error::custom(format!(
                "not an Anchore vulnerability report: expected a vulnerabilities array (anchore-cli) or a \
                 securityEvaluation array (anchorectl) at the top level, found {}",
                report_shared::found_keys(&other_keys)
            )));
        }
        if emitter.image.is_none() {
            let (asset, target) = digest_image(None, default_target);
            emitter.set_image(asset, target);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpm_package_splits_before_release() {
        let component = split_package("java-11-openjdk-headless-1:11.0.25.0.9-2.el8", Some("RPM"));
        assert_eq!(component.name, "java-11-openjdk-headless");
        assert_eq!(component.version.as_deref(), Some("1:11.0.25.0.9-2.el8"));
        assert_eq!(component.ecosystem.as_deref(), Some("rpm"));
    }

    #[test]
    fn java_package_splits_before_version() {
        let component = split_package("tomcat-embed-el-9.0.97", Some("Java"));
        assert_eq!(component.name, "tomcat-embed-el");
        assert_eq!(component.version.as_deref(), Some("9.0.97"));
        let component = split_package("infinispan-commons-13.0.22.Final", Some("Java"));
        assert_eq!(component.name, "infinispan-commons");
    }

    #[test]
    fn package_without_version_is_name() {
        let component = split_package("busybox", None);
        assert_eq!(component.name, "busybox");
        assert_eq!(component.version, None);
    }

    #[test]
    fn fix_none_is_no_version() {
        assert!(fixed_versions(Some("None")).is_empty());
        assert_eq!(
            fixed_versions(Some("10.1.34,11.0.2, 9.0.98")),
            ["10.1.34", "11.0.2", "9.0.98"]
        );
    }
}
