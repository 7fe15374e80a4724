//! Trivy JSON reports: `trivy image|fs|repo|vm|sbom --format json` and
//! `trivy k8s --format json`.
//!
//! # Reads
//!
//! - SchemaVersion 2 reports (Trivy 0.20 and later): `ArtifactName`,
//!   `ArtifactType` (`container_image`, `filesystem`, `repository`, `vm`,
//!   `cyclonedx`, `spdx`), `Metadata` and `Results`, each result with its
//!   `Vulnerabilities`, `Misconfigurations`, `Secrets` and `Licenses`.
//! - The legacy report of Trivy before 0.20: a top-level array of results
//!   (`Target`, `Type`, `Vulnerabilities`), or a literal `null` when nothing
//!   was found.
//! - `trivy k8s` reports: `ClusterName` with `Resources` (newer releases),
//!   or with the older `Vulnerabilities` and `Misconfigurations` lists of
//!   resources. Each resource has `Namespace`, `Kind`, `Name`,
//!   `Metadata` and `Results`.
//!
//! # Field mapping
//!
//! - Vulnerability: `VulnerabilityID` -> `rule_id` and the first vulnerability
//!   id, `VendorIDs` -> more ids; `Severity` -> `severity` (it wins over the
//!   CVSS scores; `UNKNOWN` falls back to the highest CVSS score);
//!   `CVSS.<source>.V2Vector|V3Vector|V40Vector` -> `cvss`; `CweIDs` -> `cwes`;
//!   `PkgName`, `InstalledVersion`, `PkgIdentifier.PURL` and the result
//!   `Type` -> `component`; `FixedVersion` (comma separated) ->
//!   `fix.fixed_versions`; `Status` -> `source_status` (`fix_deferred` and
//!   `end_of_life` are `WillNotFix`, `unknown` is none); `PrimaryURL` and
//!   `References` -> `references`; `Title` -> the end of `title`;
//!   `Description` -> `description`; `PkgPath`, else the result `Target`
//!   (except for OS packages) -> `location.path`.
//! - Misconfiguration (`FAIL`, or no `Status`; `PASS` and `EXCEPTION` are
//!   skipped): `ID` (else `AVDID`) -> `rule_id`; `ID - Title` -> `title`;
//!   `Message` -> `evidence`; `Resolution` -> `fix.description`; the result
//!   `Target` and `CauseMetadata.StartLine`/`EndLine` -> `location`.
//! - Secret: `RuleID` -> `rule_id`; `Title` and the target -> `title`; the
//!   result `Target`, `StartLine`, `EndLine` -> `location`; `Match` ->
//!   `evidence`, masked (see below).
//! - License: the license `Name` -> `rule_id`; `PkgName` -> `component`;
//!   `FilePath` -> `location.path`; `Link` -> `references`.
//! - Assets: the artifact (a container image keyed by `ArtifactName`, with
//!   `image_id`, `image_digest` and `repo_tag` identifiers; a repository for
//!   `filesystem` and `repository`; a host for `vm`), one component per
//!   vulnerable package (keyed by its purl, else `name@version`) that the
//!   artifact contains, and for `trivy k8s` one Kubernetes workload per
//!   resource, which runs on the images its results name.
//!
//! Trivy redacts secrets with asterisks before it writes `Match`, so a
//! redacted match is kept as evidence and `finding.secret` stays empty (the
//! clear value is not in the report to hash). A match without asterisks is
//! treated as clear text: its value is masked with [`MaskedSecret`] and the
//! clear value never leaves the parser.
//!
//! # Scope target
//!
//! The `ArtifactName` (an image reference, a path or a repository URL). An
//! empty name or `.` names nothing stable, so the image's first tag,
//! digest or id is used, else [`ParseContext::default_target`]. A `trivy
//! k8s` report covers its `ClusterName` (else the default target): a later
//! scan of the cluster closes the findings of deleted workloads.
//!
//! # Fingerprint
//!
//! The tool `trivy`, the rule id, the asset (the artifact, or the workload
//! for `trivy k8s`), the component purl or name and version, the path and,
//! for misconfigurations and secrets, the start line. OS packages have no
//! path: their result target includes the OS version, which changes with
//! every base image update.
//!
//! # Not read yet
//!
//! `Packages` (the full package list of `--list-all-pkgs`), `CustomResources`,
//! `VendorSeverity`, `Layer`, `DataSource`, the code excerpts of
//! `CauseMetadata.Code` and `Secrets[].Code`. Trivy's own `Fingerprint` is
//! kept as an attribute only: Trivy does not document what it hashes, so
//! it may change between two builds of the same image.
//!
//! # Reference
//!
//! <https://trivy.dev/latest/docs/configuration/reporting/> (SchemaVersion
//! 2) and <https://aquasecurity.github.io/trivy/v0.15.0/examples/report/>
//! (the legacy array).

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::io::BufRead;
use std::marker::PhantomData;

use ctem_model::{
    Asset, AssetKey, AssetKind, Component, Finding, FindingKind, MaskedSecret, Purl, Relationship, RelationshipKind,
    Severity, SourceStatus,
};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "trivy-json";
const TOOL: &str = "trivy";
/// The only `SchemaVersion` Trivy has written since it added the field.
const SCHEMA_VERSION: u64 = 2;

/// The Trivy JSON parser.
pub struct TrivyJson;

impl Parser for TrivyJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Trivy JSON",
            tool: "Trivy",
            versions: "SchemaVersion 2 (Trivy 0.20+), legacy result arrays (Trivy < 0.20), trivy k8s reports",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        let has = |key: &[u8]| util::contains(head, key);
        if head.starts_with(b"{") {
            if has(b"\"SchemaVersion\"") && (has(b"\"ArtifactName\"") || has(b"\"Results\"")) {
                return Detection::Certain;
            }
            if has(b"\"ClusterName\"") {
                let lists = has(b"\"Resources\"") || has(b"\"Vulnerabilities\"") || has(b"\"Misconfigurations\"");
                return if lists { Detection::Certain } else { Detection::Maybe };
            }
            return Detection::No;
        }
        if head.starts_with(b"[") && has(b"\"Target\"") && has(b"\"Vulnerabilities\"") {
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
        let mut emitter = Emitter::new(sink, context.default_target);
        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        ReportSeed { emitter: &mut emitter }
            .deserialize(&mut deserializer)
            .and_then(|()| deserializer.end())
            .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))
    }
}

// ---------------------------------------------------------------------------
// Report records, deserialized leniently: every field may be missing or null.
// ---------------------------------------------------------------------------

/// Deserializes `null` as the default value, because Trivy writes `null` for
/// empty lists.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Metadata {
    #[serde(rename = "ImageID")]
    image_id: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    repo_tags: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    repo_digests: Vec<String>,
    #[serde(rename = "OS")]
    os: Option<OperatingSystem>,
    #[serde(rename = "RepoURL")]
    repo_url: Option<String>,
    branch: Option<String>,
    commit: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct OperatingSystem {
    family: Option<String>,
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Vulnerability {
    #[serde(rename = "VulnerabilityID")]
    vulnerability_id: Option<String>,
    #[serde(rename = "VendorIDs", deserialize_with = "null_as_default")]
    vendor_ids: Vec<String>,
    #[serde(rename = "PkgID")]
    pkg_id: Option<String>,
    pkg_name: Option<String>,
    pkg_path: Option<String>,
    pkg_identifier: Option<PackageIdentifier>,
    installed_version: Option<String>,
    fixed_version: Option<String>,
    status: Option<String>,
    severity: Option<String>,
    severity_source: Option<String>,
    #[serde(rename = "PrimaryURL")]
    primary_url: Option<String>,
    title: Option<String>,
    description: Option<String>,
    #[serde(rename = "CweIDs", deserialize_with = "null_as_default")]
    cwe_ids: Vec<String>,
    #[serde(rename = "CVSS", deserialize_with = "null_as_default")]
    cvss: BTreeMap<String, CvssEntry>,
    #[serde(deserialize_with = "null_as_default")]
    references: Vec<String>,
    published_date: Option<String>,
    fingerprint: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PackageIdentifier {
    #[serde(rename = "PURL")]
    purl: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CvssEntry {
    #[serde(rename = "V2Vector")]
    v2_vector: Option<String>,
    #[serde(rename = "V3Vector")]
    v3_vector: Option<String>,
    #[serde(rename = "V40Vector")]
    v40_vector: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Misconfiguration {
    #[serde(rename = "Type")]
    check_type: Option<String>,
    #[serde(rename = "ID")]
    id: Option<String>,
    #[serde(rename = "AVDID")]
    avd_id: Option<String>,
    title: Option<String>,
    description: Option<String>,
    message: Option<String>,
    resolution: Option<String>,
    severity: Option<String>,
    status: Option<String>,
    #[serde(rename = "PrimaryURL")]
    primary_url: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    references: Vec<String>,
    cause_metadata: Option<CauseMetadata>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct CauseMetadata {
    resource: Option<String>,
    provider: Option<String>,
    service: Option<String>,
    start_line: Option<u32>,
    end_line: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Secret {
    #[serde(rename = "RuleID")]
    rule_id: Option<String>,
    category: Option<String>,
    severity: Option<String>,
    title: Option<String>,
    start_line: Option<u32>,
    end_line: Option<u32>,
    #[serde(rename = "Match")]
    matched: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct License {
    severity: Option<String>,
    category: Option<String>,
    pkg_name: Option<String>,
    file_path: Option<String>,
    name: Option<String>,
    confidence: Option<f64>,
    link: Option<String>,
}

/// One result read whole, when its items came before its `Target` and
/// `Class` (Trivy writes those first, so only reordered files need this).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct BufferedResult {
    target: Option<String>,
    class: Option<String>,
    #[serde(rename = "Type")]
    package_type: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    vulnerabilities: Vec<Vulnerability>,
    #[serde(deserialize_with = "null_as_default")]
    misconfigurations: Vec<Misconfiguration>,
    #[serde(deserialize_with = "null_as_default")]
    secrets: Vec<Secret>,
    #[serde(deserialize_with = "null_as_default")]
    licenses: Vec<License>,
}

/// One Kubernetes resource read whole, when it came before `ClusterName`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct BufferedResource {
    namespace: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    metadata: Option<Metadata>,
    #[serde(deserialize_with = "null_as_default")]
    results: Vec<BufferedResult>,
}

/// A finding-bearing record of a result.
enum Item {
    Vulnerability(Box<Vulnerability>),
    Misconfiguration(Box<Misconfiguration>),
    Secret(Box<Secret>),
    License(Box<License>),
}

impl From<Vulnerability> for Item {
    fn from(record: Vulnerability) -> Item {
        Item::Vulnerability(Box::new(record))
    }
}

impl From<Misconfiguration> for Item {
    fn from(record: Misconfiguration) -> Item {
        Item::Misconfiguration(Box::new(record))
    }
}

impl From<Secret> for Item {
    fn from(record: Secret) -> Item {
        Item::Secret(Box::new(record))
    }
}

impl From<License> for Item {
    fn from(record: License) -> Item {
        Item::License(Box::new(record))
    }
}

// ---------------------------------------------------------------------------
// What findings hang on: the artifact or workload, and each result.
// ---------------------------------------------------------------------------

/// The asset that the results of a report or of a Kubernetes resource
/// belong to.
enum Owner {
    /// The scanned artifact of a SchemaVersion 2 or legacy report.
    Artifact { key: AssetKey, target: String },
    /// A resource of a `trivy k8s` report.
    Workload {
        key: AssetKey,
        target: String,
        /// The first image tag of the resource's metadata.
        image: Option<String>,
    },
}

/// The fields of a result that come before its items.
#[derive(Debug, Default)]
struct ResultHead {
    target: Option<String>,
    class: Option<String>,
    package_type: Option<String>,
}

impl ResultHead {
    /// Returns whether the items can be handled as they are read. Trivy
    /// writes `Target`, `Class` and `Type` first, and legacy results have no
    /// `Class`.
    fn is_complete(&self) -> bool {
        self.target.is_some() && (self.class.is_some() || self.package_type.is_some())
    }

    fn target(&self) -> &str {
        self.target.as_deref().unwrap_or_default()
    }

    fn class(&self) -> &str {
        self.class.as_deref().unwrap_or_default()
    }
}

/// The destination of the findings of one result.
struct ResultScope {
    /// The asset the findings are on.
    asset: AssetKey,
    /// The asset that contains the result's packages (the artifact, or the
    /// image of a workload).
    packages_in: AssetKey,
    /// The scope target of the report.
    target: String,
}

/// Sends records to the sink, once per asset and relationship.
struct Emitter<'a> {
    sink: &'a mut dyn Sink,
    default_target: &'a str,
    assets: HashSet<AssetKey>,
    relationships: HashSet<(AssetKey, RelationshipKind, AssetKey)>,
}

impl<'a> Emitter<'a> {
    fn new(sink: &'a mut dyn Sink, default_target: &'a str) -> Emitter<'a> {
        Emitter {
            sink,
            default_target,
            assets: HashSet::new(),
            relationships: HashSet::new(),
        }
    }

    fn asset(&mut self, asset: Asset) {
        if self.assets.insert(asset.key.clone()) {
            self.sink.asset(asset);
        }
    }

    fn relate(&mut self, from: &AssetKey, kind: RelationshipKind, to: &AssetKey) {
        if self.relationships.insert((from.clone(), kind, to.clone())) {
            self.sink
                .relationship(Relationship::new(from.clone(), kind, to.clone()));
        }
    }

    /// Builds the destination of a result's findings, and sends the image
    /// of a workload's result.
    fn result_scope(&mut self, owner: &Owner, head: &ResultHead) -> ResultScope {
        match owner {
            Owner::Artifact { key, target } => ResultScope {
                asset: key.clone(),
                packages_in: key.clone(),
                target: target.clone(),
            },
            Owner::Workload { key, target, image } => {
                let image = if head.class() == "os-pkgs" {
                    Some(strip_os_suffix(head.target()).to_string())
                } else {
                    image.clone()
                };
                let packages_in = match image.filter(|name| !name.is_empty()) {
                    Some(name) => {
                        let image = Asset::new(AssetKind::ContainerImage, &name, name.clone());
                        let image_key = image.key.clone();
                        self.asset(image);
                        self.relate(key, RelationshipKind::RunsOn, &image_key);
                        image_key
                    }
                    None => key.clone(),
                };
                ResultScope {
                    asset: key.clone(),
                    packages_in,
                    target: target.clone(),
                }
            }
        }
    }

    fn item(&mut self, scope: &ResultScope, head: &ResultHead, item: Item) -> Result<(), String> {
        match item {
            Item::Vulnerability(record) => self.vulnerability(scope, head, *record),
            Item::Misconfiguration(record) => self.misconfiguration(scope, head, *record),
            Item::Secret(record) => self.secret(scope, head, *record),
            Item::License(record) => self.license(scope, head, *record),
        }
    }

    fn vulnerability(&mut self, scope: &ResultScope, head: &ResultHead, record: Vulnerability) -> Result<(), String> {
        let Some(id) = util::non_empty(record.vulnerability_id.as_deref()) else {
            return Err(format!(
                "a vulnerability of result {:?} has no VulnerabilityID",
                head.target()
            ));
        };
        let package = util::non_empty(record.pkg_name.as_deref());
        let version = util::non_empty(record.installed_version.as_deref());

        let mut title = id.clone();
        if let Some(package) = &package {
            title = format!("{title} in {package}");
            if let Some(version) = &version {
                title = format!("{title} {version}");
            }
        }
        if let Some(trivy_title) = util::non_empty(record.title.as_deref()) {
            title = format!("{title}: {trivy_title}");
        }

        let mut finding = Finding::new(
            TOOL,
            id.clone(),
            FindingKind::Vulnerability,
            title,
            Severity::Info,
            scope.asset.clone(),
        );
        util::add_vulnerability_id(&mut finding, &id);
        for vendor_id in &record.vendor_ids {
            util::add_vulnerability_id(&mut finding, vendor_id);
        }
        for cwe in &record.cwe_ids {
            util::add_cwe(&mut finding, cwe);
        }
        for entry in record.cvss.values() {
            for vector in [&entry.v2_vector, &entry.v3_vector, &entry.v40_vector]
                .into_iter()
                .flatten()
            {
                util::add_cvss(&mut finding, vector);
            }
        }
        finding.severity = util::severity_or_cvss(known_severity(record.severity.as_deref()), &finding);
        finding.description = util::non_empty(record.description.as_deref());
        finding.references = references(record.primary_url.as_deref(), &record.references);
        finding.source_status = record.status.as_deref().and_then(source_status);
        finding.target = Some(scope.target.clone());

        if let Some(fixed) = util::non_empty(record.fixed_version.as_deref()) {
            finding.fix.fixed_versions = fixed
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect();
        }

        finding.location.path = util::non_empty(record.pkg_path.as_deref()).or_else(|| {
            // An OS package's target names the image and its OS release,
            // which is no path and changes with every base image update.
            (head.class() != "os-pkgs")
                .then(|| util::non_empty(head.target.as_deref()))
                .flatten()
        });

        if let Some(package) = package {
            let purl = record
                .pkg_identifier
                .as_ref()
                .and_then(|identifier| identifier.purl.as_deref())
                .and_then(|text| text.parse::<Purl>().ok());
            let component = Component {
                name: package,
                version,
                purl,
                ecosystem: util::non_empty(head.package_type.as_deref()),
            };
            self.component_asset(&scope.packages_in, &component);
            finding.component = Some(component);
        }

        let attributes = [
            ("severity_source", record.severity_source),
            ("published_date", record.published_date),
            ("pkg_id", record.pkg_id),
            ("trivy_fingerprint", record.fingerprint),
            ("status", record.status),
        ];
        set_attributes(&mut finding, attributes);
        set_result_attributes(&mut finding, head);
        self.sink.finding(finding);
        Ok(())
    }

    fn misconfiguration(
        &mut self,
        scope: &ResultScope,
        head: &ResultHead,
        record: Misconfiguration,
    ) -> Result<(), String> {
        let status = record.status.as_deref().unwrap_or_default();
        if status.eq_ignore_ascii_case("PASS") || status.eq_ignore_ascii_case("EXCEPTION") {
            return Ok(());
        }
        let Some(id) = util::non_empty(record.id.as_deref()).or_else(|| util::non_empty(record.avd_id.as_deref()))
        else {
            return Err(format!(
                "a misconfiguration of result {:?} has no ID or AVDID",
                head.target()
            ));
        };
        let headline = util::non_empty(record.title.as_deref()).or_else(|| util::non_empty(record.message.as_deref()));
        let title = match headline {
            Some(headline) => format!("{id} - {headline}"),
            None => id.clone(),
        };

        let mut finding = Finding::new(
            TOOL,
            id,
            FindingKind::Misconfiguration,
            title,
            Severity::Info,
            scope.asset.clone(),
        );
        finding.severity = util::severity_or_cvss(known_severity(record.severity.as_deref()), &finding);
        finding.description = util::non_empty(record.description.as_deref());
        finding.evidence = util::non_empty(record.message.as_deref());
        finding.fix.description = util::non_empty(record.resolution.as_deref());
        finding.references = references(record.primary_url.as_deref(), &record.references);
        finding.target = Some(scope.target.clone());
        finding.location.path = util::non_empty(head.target.as_deref());

        let cause = record.cause_metadata.unwrap_or_default();
        finding.location.start_line = cause.start_line.filter(|line| *line > 0);
        finding.location.end_line = cause.end_line.filter(|line| *line > 0);
        let attributes = [
            ("avd_id", record.avd_id),
            ("check_type", record.check_type),
            ("resource", cause.resource),
            ("provider", cause.provider),
            ("service", cause.service),
        ];
        set_attributes(&mut finding, attributes);
        set_result_attributes(&mut finding, head);
        self.sink.finding(finding);
        Ok(())
    }

    fn secret(&mut self, scope: &ResultScope, head: &ResultHead, record: Secret) -> Result<(), String> {
        let Some(rule_id) = util::non_empty(record.rule_id.as_deref()) else {
            return Err(format!("a secret of result {:?} has no RuleID", head.target()));
        };
        let name = util::non_empty(record.title.as_deref()).unwrap_or_else(|| rule_id.clone());
        let title = match util::non_empty(head.target.as_deref()) {
            Some(target) => format!("{name} in {target}"),
            None => name,
        };

        let mut finding = Finding::new(
            TOOL,
            rule_id,
            FindingKind::Secret,
            title,
            Severity::Info,
            scope.asset.clone(),
        );
        finding.severity = util::severity_or_cvss(known_severity(record.severity.as_deref()), &finding);
        if let Some(matched) = util::non_empty(record.matched.as_deref()) {
            let (evidence, secret) = mask_match(&matched);
            finding.evidence = Some(evidence);
            finding.secret = secret;
        }
        finding.target = Some(scope.target.clone());
        finding.location.path = util::non_empty(head.target.as_deref());
        finding.location.start_line = record.start_line.filter(|line| *line > 0);
        finding.location.end_line = record.end_line.filter(|line| *line > 0);
        set_attributes(&mut finding, [("category", record.category)]);
        set_result_attributes(&mut finding, head);
        self.sink.finding(finding);
        Ok(())
    }

    fn license(&mut self, scope: &ResultScope, head: &ResultHead, record: License) -> Result<(), String> {
        let Some(name) = util::non_empty(record.name.as_deref()) else {
            return Err(format!("a license of result {:?} has no Name", head.target()));
        };
        let package = util::non_empty(record.pkg_name.as_deref());
        let file = util::non_empty(record.file_path.as_deref());
        let category = util::non_empty(record.category.as_deref());

        let mut title = format!("License {name}");
        if let Some(category) = &category {
            title = format!("{title} ({category})");
        }
        if let Some(place) = package.as_ref().or(file.as_ref()) {
            title = format!("{title} in {place}");
        }

        let mut finding = Finding::new(
            TOOL,
            name,
            FindingKind::License,
            title,
            Severity::Info,
            scope.asset.clone(),
        );
        finding.severity = util::severity_or_cvss(known_severity(record.severity.as_deref()), &finding);
        finding.target = Some(scope.target.clone());
        finding.location.path = file;
        finding.component = package.map(|name| Component {
            name,
            ..Component::default()
        });
        finding.references = references(record.link.as_deref(), &[]);
        let confidence = record.confidence.map(|value| value.to_string());
        set_attributes(&mut finding, [("category", category), ("confidence", confidence)]);
        set_result_attributes(&mut finding, head);
        self.sink.finding(finding);
        Ok(())
    }

    /// Sends a package as a component asset that `owner` contains.
    fn component_asset(&mut self, owner: &AssetKey, component: &Component) {
        let identifier = match (&component.purl, &component.version) {
            (Some(purl), _) => purl.to_string(),
            (None, Some(version)) => format!("{}@{version}", component.name),
            (None, None) => component.name.clone(),
        };
        let mut asset = Asset::new(AssetKind::Component, &identifier, component.name.clone());
        if let Some(purl) = &component.purl {
            asset.add_identifier("purl", purl.to_string());
        }
        if let Some(version) = &component.version {
            asset.attributes.insert("version".into(), version.clone());
        }
        if let Some(ecosystem) = &component.ecosystem {
            asset.attributes.insert("ecosystem".into(), ecosystem.clone());
        }
        let key = asset.key.clone();
        self.asset(asset);
        self.relate(owner, RelationshipKind::Contains, &key);
    }
}

/// Returns the severity word, or `None` for Trivy's `UNKNOWN` so that the
/// CVSS score decides.
fn known_severity(word: Option<&str>) -> Option<&str> {
    word.map(str::trim)
        .filter(|w| !w.is_empty() && !w.eq_ignore_ascii_case("UNKNOWN"))
}

/// Maps Trivy's vulnerability `Status` to a source status.
///
/// Trivy's `fixed` means that the vendor released a fixed version while the
/// installed one is still affected, so it maps to `Affected`: in the model,
/// `Fixed` means the weakness is gone, and scoring lowers such findings.
fn source_status(status: &str) -> Option<SourceStatus> {
    match status.trim().to_ascii_lowercase().as_str() {
        "affected" | "fixed" => Some(SourceStatus::Affected),
        "not_affected" => Some(SourceStatus::NotAffected),
        "under_investigation" => Some(SourceStatus::UnderInvestigation),
        "will_not_fix" | "fix_deferred" | "end_of_life" => Some(SourceStatus::WillNotFix),
        _ => None,
    }
}

/// Collects the primary URL, then the other references, without blanks or
/// repeats.
fn references(primary: Option<&str>, others: &[String]) -> Vec<String> {
    let mut list: Vec<String> = Vec::new();
    for reference in primary.into_iter().chain(others.iter().map(String::as_str)) {
        let reference = reference.trim();
        if !reference.is_empty() && !list.iter().any(|r| r == reference) {
            list.push(reference.to_string());
        }
    }
    list
}

fn set_attributes<const N: usize>(finding: &mut Finding, attributes: [(&str, Option<String>); N]) {
    for (name, value) in attributes {
        if let Some(value) = util::non_empty(value.as_deref()) {
            finding.attributes.insert(name.to_string(), value);
        }
    }
}

fn set_result_attributes(finding: &mut Finding, head: &ResultHead) {
    let attributes = [
        ("result_target", head.target.clone()),
        ("result_class", head.class.clone()),
        ("result_type", head.package_type.clone()),
    ];
    set_attributes(finding, attributes);
}

/// Returns the image name of an OS package result target such as
/// `nginx:1.25 (debian 12.1)`.
fn strip_os_suffix(target: &str) -> &str {
    match target.rfind(" (") {
        Some(index) if target.ends_with(')') => &target[..index],
        _ => target,
    }
}

/// Turns a secret's `Match` into evidence without clear text.
///
/// Trivy replaces the secret with asterisks before it writes the match, so
/// a match with a run of asterisks is kept as it is and no secret is
/// returned. Otherwise the value after the last `=` or `:` (or the whole
/// match when there is none) is taken as the clear secret, and every
/// occurrence of it is replaced by its masked form.
fn mask_match(matched: &str) -> (String, Option<MaskedSecret>) {
    if matched.contains("***") {
        return (matched.to_string(), None);
    }
    let value = matched
        .rfind(['=', ':'])
        .map(|index| matched[index + 1..].trim().trim_matches(['"', '\'', '`']).trim())
        .filter(|value| !value.is_empty())
        .unwrap_or(matched);
    let secret = MaskedSecret::new(value);
    let evidence = matched.replace(value, &secret.masked);
    (evidence, Some(secret))
}

// ---------------------------------------------------------------------------
// Streaming: seeds that hand each record to the emitter as it is read.
// ---------------------------------------------------------------------------

/// The whole document: an object (SchemaVersion 2 or `trivy k8s`), an
/// array (legacy) or `null` (a legacy report without findings).
struct ReportSeed<'s, 'a> {
    emitter: &'s mut Emitter<'a>,
}

impl<'de> DeserializeSeed<'de> for ReportSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ReportSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Trivy JSON report: an object with SchemaVersion 2 or ClusterName, or a legacy array of results")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        let target = self.emitter.default_target.to_string();
        self.emitter.sink.target(TOOL, &target);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let owner = legacy_owner(self.emitter);
        while seq
            .next_element_seed(ResultSeed {
                emitter: self.emitter,
                owner: &owner,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut report = TopLevel::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "SchemaVersion" => {
                    let version = map.next_value::<u64>()?;
                    if version != SCHEMA_VERSION {
                        return Err(de::Error::custom(format!(
                            "unsupported SchemaVersion {version}: this parser reads Trivy JSON SchemaVersion \
                             {SCHEMA_VERSION} (Trivy 0.20 and later); export the report again with a Trivy \
                             release that writes it"
                        )));
                    }
                    report.schema_version = Some(version);
                }
                "ArtifactName" => report.artifact_name = map.next_value()?,
                "ArtifactType" => report.artifact_type = Some(map.next_value::<Option<String>>()?.unwrap_or_default()),
                "Metadata" => report.metadata = Some(map.next_value::<Option<Metadata>>()?.unwrap_or_default()),
                "Results" => {
                    if report.artifact_is_known() {
                        let owner = report.artifact_owner(self.emitter);
                        map.next_value_seed(ResultsSeed {
                            emitter: self.emitter,
                            owner: &owner,
                        })?;
                    } else {
                        let results: Option<Vec<BufferedResult>> = map.next_value()?;
                        report.buffered_results.extend(results.unwrap_or_default());
                    }
                    report.has_results = true;
                }
                "ClusterName" => report.cluster_name = Some(map.next_value::<Option<String>>()?.unwrap_or_default()),
                "Resources" | "Vulnerabilities" | "Misconfigurations" => match report.cluster_target(self.emitter) {
                    Some(cluster) => map.next_value_seed(ResourcesSeed {
                        emitter: self.emitter,
                        cluster: &cluster,
                    })?,
                    None => {
                        let resources: Option<Vec<BufferedResource>> = map.next_value()?;
                        report.buffered_resources.extend(resources.unwrap_or_default());
                    }
                },
                _ => {
                    if report.other_keys.len() < 5 {
                        report.other_keys.push(key);
                    }
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        report.finish(self.emitter).map_err(de::Error::custom)
    }
}

/// The top-level keys read so far.
#[derive(Default)]
struct TopLevel {
    schema_version: Option<u64>,
    artifact_name: Option<String>,
    artifact_type: Option<String>,
    metadata: Option<Metadata>,
    cluster_name: Option<String>,
    has_results: bool,
    buffered_results: Vec<BufferedResult>,
    buffered_resources: Vec<BufferedResource>,
    /// The artifact key and scope target, kept so that they are built and
    /// declared once.
    artifact: Option<(AssetKey, String)>,
    cluster: Option<ClusterScope>,
    other_keys: Vec<String>,
}

/// The cluster of a `trivy k8s` report.
#[derive(Clone)]
struct ClusterScope {
    name: Option<String>,
    target: String,
}

impl TopLevel {
    /// Returns whether the artifact's identity is known, so that results
    /// can be handled as they are read. Trivy writes the artifact keys
    /// before `Results`.
    fn artifact_is_known(&self) -> bool {
        let named = self
            .artifact_name
            .as_deref()
            .is_some_and(|name| usable_name(name).is_some());
        self.artifact.is_some() || (self.artifact_type.is_some() && (named || self.metadata.is_some()))
    }

    /// Returns the artifact's owner, and declares its scope target the
    /// first time.
    fn artifact_owner(&mut self, emitter: &mut Emitter<'_>) -> Owner {
        let (key, target) = self.artifact.get_or_insert_with(|| {
            let target = artifact_name(
                self.artifact_name.as_deref(),
                self.metadata.as_ref(),
                emitter.default_target,
            );
            let kind = artifact_kind(self.artifact_type.as_deref().unwrap_or_default());
            emitter.sink.target(TOOL, &target);
            (AssetKey::new(kind, &target), target)
        });
        Owner::Artifact {
            key: key.clone(),
            target: target.clone(),
        }
    }

    /// Returns the cluster of a `trivy k8s` report once `ClusterName` was
    /// read, and declares its scope target the first time.
    fn cluster_target(&mut self, emitter: &mut Emitter<'_>) -> Option<ClusterScope> {
        if self.cluster.is_none() {
            let name = util::non_empty(Some(self.cluster_name.as_deref()?));
            let target = name.clone().unwrap_or_else(|| emitter.default_target.to_string());
            emitter.sink.target(TOOL, &target);
            self.cluster = Some(ClusterScope { name, target });
        }
        self.cluster.clone()
    }

    /// Checks that the document was a Trivy report, then handles whatever
    /// was buffered and sends the artifact asset (last, so that its
    /// identifiers include `Metadata` wherever it was in the file).
    fn finish(mut self, emitter: &mut Emitter<'_>) -> Result<(), String> {
        let is_kubernetes = self.cluster_name.is_some();
        if self.schema_version.is_none() && !is_kubernetes {
            let found = if self.other_keys.is_empty() {
                "no such key".to_string()
            } else {
                format!("keys {}", self.other_keys.join(", "))
            };
            return Err(format!(
                "not a Trivy JSON report: expected SchemaVersion {SCHEMA_VERSION} (trivy image, fs, repo) or \
                 ClusterName (trivy k8s) at the top level, found {found}"
            ));
        }

        if is_kubernetes {
            let cluster = self.cluster_target(emitter).ok_or("the report has no ClusterName")?;
            for resource in std::mem::take(&mut self.buffered_resources) {
                handle_buffered_resource(emitter, &cluster, resource)?;
            }
        }
        if !is_kubernetes || self.has_results {
            let owner = self.artifact_owner(emitter);
            for result in std::mem::take(&mut self.buffered_results) {
                handle_buffered_result(emitter, &owner, result)?;
            }
            if let Owner::Artifact { key, target } = owner {
                emitter.asset(artifact_asset(key, &target, self.metadata.as_ref()));
            }
        }
        Ok(())
    }
}

/// Returns the artifact name when it identifies something: not empty and
/// not `.`.
fn usable_name(name: &str) -> Option<&str> {
    let name = name.trim();
    (!name.is_empty() && name != "." && name != "./").then_some(name)
}

/// Picks the scope target and asset identifier of the scanned artifact.
fn artifact_name(name: Option<&str>, metadata: Option<&Metadata>, default_target: &str) -> String {
    if let Some(name) = name.and_then(usable_name) {
        return name.to_string();
    }
    let from_metadata = metadata.and_then(|metadata| {
        let first = |list: &[String]| list.iter().find_map(|value| util::non_empty(Some(value)));
        first(&metadata.repo_tags)
            .or_else(|| first(&metadata.repo_digests))
            .or_else(|| util::non_empty(metadata.image_id.as_deref()))
    });
    from_metadata.unwrap_or_else(|| default_target.to_string())
}

fn artifact_kind(artifact_type: &str) -> AssetKind {
    match artifact_type {
        "container_image" => AssetKind::ContainerImage,
        "filesystem" | "repository" => AssetKind::Repository,
        "vm" => AssetKind::Host,
        _ => AssetKind::Other,
    }
}

fn artifact_asset(key: AssetKey, name: &str, metadata: Option<&Metadata>) -> Asset {
    let kind = key.kind().unwrap_or(AssetKind::Other);
    let mut asset = Asset::new(kind, key.identifier(), name);
    let Some(metadata) = metadata else {
        return asset;
    };
    if let Some(image_id) = util::non_empty(metadata.image_id.as_deref()) {
        asset.add_identifier("image_id", image_id);
    }
    for digest in metadata.repo_digests.iter().filter_map(|d| util::non_empty(Some(d))) {
        asset.add_identifier("image_digest", digest);
    }
    for tag in metadata.repo_tags.iter().filter_map(|t| util::non_empty(Some(t))) {
        asset.add_identifier("repo_tag", tag);
    }
    if let Some(url) = util::non_empty(metadata.repo_url.as_deref()) {
        asset.add_identifier("repo_url", url);
    }
    if let Some(os) = &metadata.os {
        let parts: Vec<&str> = [os.family.as_deref(), os.name.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        if !parts.is_empty() {
            asset.attributes.insert("os".into(), parts.join(" "));
        }
    }
    for (name, value) in [("branch", &metadata.branch), ("commit", &metadata.commit)] {
        if let Some(value) = util::non_empty(value.as_deref()) {
            asset.attributes.insert(name.into(), value);
        }
    }
    asset
}

/// Sends the asset of a legacy report and returns its owner. The report
/// names no artifact, so the default target identifies it.
fn legacy_owner(emitter: &mut Emitter<'_>) -> Owner {
    let target = emitter.default_target.to_string();
    let asset = Asset::new(AssetKind::Other, &target, target.clone());
    let key = asset.key.clone();
    emitter.sink.target(TOOL, &target);
    emitter.asset(asset);
    Owner::Artifact { key, target }
}

/// Sends the workload asset of a Kubernetes resource and returns its owner.
fn workload_owner(
    emitter: &mut Emitter<'_>,
    cluster: &ClusterScope,
    namespace: Option<&str>,
    kind: &str,
    name: &str,
    metadata: Option<&Metadata>,
) -> Owner {
    let namespace = util::non_empty(namespace);
    let local: Vec<&str> = namespace.iter().map(String::as_str).chain([kind, name]).collect();
    let local = local.join("/");
    let identifier = match &cluster.name {
        Some(cluster) => format!("{cluster}/{local}"),
        None => local.clone(),
    };

    let mut asset = Asset::new(AssetKind::KubernetesWorkload, &identifier, local);
    asset.attributes.insert("kind".into(), kind.to_string());
    if let Some(namespace) = &namespace {
        asset.attributes.insert("namespace".into(), namespace.clone());
    }
    if let Some(cluster) = &cluster.name {
        asset.attributes.insert("cluster".into(), cluster.clone());
    }
    let key = asset.key.clone();
    emitter.asset(asset);

    let image = metadata.and_then(|metadata| metadata.repo_tags.iter().find_map(|tag| util::non_empty(Some(tag))));
    Owner::Workload {
        key,
        target: cluster.target.clone(),
        image,
    }
}

fn handle_buffered_result(emitter: &mut Emitter<'_>, owner: &Owner, result: BufferedResult) -> Result<(), String> {
    let head = ResultHead {
        target: result.target,
        class: result.class,
        package_type: result.package_type,
    };
    if head.target.is_none() {
        return Err("a result has no Target".to_string());
    }
    let scope = emitter.result_scope(owner, &head);
    let items = (result.vulnerabilities.into_iter().map(Item::from))
        .chain(result.misconfigurations.into_iter().map(Item::from))
        .chain(result.secrets.into_iter().map(Item::from))
        .chain(result.licenses.into_iter().map(Item::from));
    for item in items {
        emitter.item(&scope, &head, item)?;
    }
    Ok(())
}

fn handle_buffered_resource(
    emitter: &mut Emitter<'_>,
    cluster: &ClusterScope,
    resource: BufferedResource,
) -> Result<(), String> {
    let (Some(kind), Some(name)) = (resource.kind, resource.name) else {
        return Err("a Kubernetes resource has no Kind or Name".to_string());
    };
    let owner = workload_owner(
        emitter,
        cluster,
        resource.namespace.as_deref(),
        &kind,
        &name,
        resource.metadata.as_ref(),
    );
    for result in resource.results {
        handle_buffered_result(emitter, &owner, result)?;
    }
    Ok(())
}

/// A `Results` array.
struct ResultsSeed<'s, 'a> {
    emitter: &'s mut Emitter<'a>,
    owner: &'s Owner,
}

impl<'de> DeserializeSeed<'de> for ResultsSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for ResultsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of results")
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(ResultSeed {
                emitter: self.emitter,
                owner: self.owner,
            })?
            .is_some()
        {}
        Ok(())
    }
}

/// One result: its items are handled as they are read once the head is
/// known, and buffered otherwise.
struct ResultSeed<'s, 'a> {
    emitter: &'s mut Emitter<'a>,
    owner: &'s Owner,
}

impl<'de> DeserializeSeed<'de> for ResultSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ResultSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Trivy result object with a Target")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut head = ResultHead::default();
        let mut scope: Option<ResultScope> = None;
        let mut pending: Vec<Item> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "Target" => head.target = Some(map.next_value::<Option<String>>()?.unwrap_or_default()),
                "Class" => head.class = map.next_value()?,
                "Type" => head.package_type = map.next_value()?,
                "Vulnerabilities" => self.items::<A, Vulnerability>(&mut map, &head, &mut scope, &mut pending)?,
                "Misconfigurations" => self.items::<A, Misconfiguration>(&mut map, &head, &mut scope, &mut pending)?,
                "Secrets" => self.items::<A, Secret>(&mut map, &head, &mut scope, &mut pending)?,
                "Licenses" => self.items::<A, License>(&mut map, &head, &mut scope, &mut pending)?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        if head.target.is_none() {
            return Err(de::Error::custom(
                "a result has no Target: expected a Trivy result object",
            ));
        }
        let scope = match scope {
            Some(scope) => scope,
            None => self.emitter.result_scope(self.owner, &head),
        };
        for item in pending {
            self.emitter.item(&scope, &head, item).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

impl ResultSeed<'_, '_> {
    /// Reads one item array: handled record by record when the head is
    /// known, buffered otherwise.
    fn items<'de, A, T>(
        &mut self,
        map: &mut A,
        head: &ResultHead,
        scope: &mut Option<ResultScope>,
        pending: &mut Vec<Item>,
    ) -> Result<(), A::Error>
    where
        A: MapAccess<'de>,
        T: Deserialize<'de> + Into<Item>,
    {
        if !head.is_complete() {
            let records: Option<Vec<T>> = map.next_value()?;
            pending.extend(records.unwrap_or_default().into_iter().map(Into::into));
            return Ok(());
        }
        if scope.is_none() {
            *scope = Some(self.emitter.result_scope(self.owner, head));
        }
        let Some(scope) = scope.as_ref() else {
            return Ok(());
        };
        map.next_value_seed(ItemsSeed::<T> {
            emitter: self.emitter,
            scope,
            head,
            record: PhantomData,
        })
    }
}

/// An array of records of one kind, each handed to the emitter as it is read.
struct ItemsSeed<'s, 'a, T> {
    emitter: &'s mut Emitter<'a>,
    scope: &'s ResultScope,
    head: &'s ResultHead,
    record: PhantomData<T>,
}

impl<'de, T: Deserialize<'de> + Into<Item>> DeserializeSeed<'de> for ItemsSeed<'_, '_, T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, T: Deserialize<'de> + Into<Item>> Visitor<'de> for ItemsSeed<'_, '_, T> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(record) = seq.next_element::<T>()? {
            self.emitter
                .item(self.scope, self.head, record.into())
                .map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

/// A `trivy k8s` list of resources (`Resources`, or the older
/// `Vulnerabilities` and `Misconfigurations`).
struct ResourcesSeed<'s, 'a> {
    emitter: &'s mut Emitter<'a>,
    cluster: &'s ClusterScope,
}

impl<'de> DeserializeSeed<'de> for ResourcesSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for ResourcesSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of Kubernetes resources")
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(ResourceSeed {
                emitter: self.emitter,
                cluster: self.cluster,
            })?
            .is_some()
        {}
        Ok(())
    }
}

/// One Kubernetes resource: its results are handled as they are read once
/// its kind and name are known.
struct ResourceSeed<'s, 'a> {
    emitter: &'s mut Emitter<'a>,
    cluster: &'s ClusterScope,
}

impl<'de> DeserializeSeed<'de> for ResourceSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ResourceSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Kubernetes resource object with Kind and Name")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut namespace: Option<String> = None;
        let mut kind: Option<String> = None;
        let mut name: Option<String> = None;
        let mut metadata: Option<Metadata> = None;
        let mut owner: Option<Owner> = None;
        let mut pending: Vec<BufferedResult> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "Namespace" => namespace = map.next_value()?,
                "Kind" => kind = map.next_value()?,
                "Name" => name = map.next_value()?,
                "Metadata" => metadata = map.next_value()?,
                "Results" => match (&kind, &name) {
                    (Some(kind), Some(name)) => {
                        let owner = owner.get_or_insert_with(|| {
                            workload_owner(
                                self.emitter,
                                self.cluster,
                                namespace.as_deref(),
                                kind,
                                name,
                                metadata.as_ref(),
                            )
                        });
                        map.next_value_seed(ResultsSeed {
                            emitter: self.emitter,
                            owner,
                        })?;
                    }
                    _ => {
                        let results: Option<Vec<BufferedResult>> = map.next_value()?;
                        pending.extend(results.unwrap_or_default());
                    }
                },
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        let (Some(kind), Some(name)) = (kind, name) else {
            return Err(de::Error::custom("a Kubernetes resource has no Kind or Name"));
        };
        let owner = match owner {
            Some(owner) => owner,
            None => workload_owner(
                self.emitter,
                self.cluster,
                namespace.as_deref(),
                &kind,
                &name,
                metadata.as_ref(),
            ),
        };
        for result in pending {
            handle_buffered_result(self.emitter, &owner, result).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_match_is_kept() {
        let (evidence, secret) = mask_match("export AWS_ACCESS_KEY_ID=********************");
        assert_eq!(evidence, "export AWS_ACCESS_KEY_ID=********************");
        assert!(secret.is_none());
    }

    #[test]
    fn clear_match_is_masked() {
        let (evidence, secret) = mask_match("token: \"ghp_0123456789abcdefghij0123456789abcdef\"");
        let secret = secret.expect("a clear value is masked");
        assert_eq!(evidence, "token: \"ghp_********\"");
        assert_eq!(secret.masked, "ghp_********");
    }

    #[test]
    fn bare_match_is_masked_whole() {
        let (evidence, secret) = mask_match("AKIAZZZZZZZZZZZZZZZZ");
        assert_eq!(evidence, "AKIA********");
        assert!(secret.is_some());
    }

    #[test]
    fn os_suffix_is_stripped() {
        assert_eq!(
            strip_os_suffix("docker.io/redis:6.0.5 (debian 10.4)"),
            "docker.io/redis:6.0.5"
        );
        assert_eq!(strip_os_suffix("Deployment/redis"), "Deployment/redis");
    }

    #[test]
    fn statuses_map() {
        assert_eq!(source_status("end_of_life"), Some(SourceStatus::WillNotFix));
        assert_eq!(source_status("fix_deferred"), Some(SourceStatus::WillNotFix));
        assert_eq!(source_status("not_affected"), Some(SourceStatus::NotAffected));
        assert_eq!(source_status("unknown"), None);
    }
}
