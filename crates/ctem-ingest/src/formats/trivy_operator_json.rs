//! Trivy Operator reports: the custom resources that the Trivy Operator
//! writes into a Kubernetes cluster, exported as JSON
//! (`kubectl get vulnerabilityreports -A -o json` and the like).
//!
//! # Reads
//!
//! Custom resources of `aquasecurity.github.io/v1alpha1` (Trivy Operator
//! 0.x), as one resource, a JSON array of resources, a Kubernetes `List`
//! (`items`), or an object of such arrays keyed by resource type
//! (`vulnerabilityreports.aquasecurity.github.io`):
//!
//! - `VulnerabilityReport` (and the cluster-scoped variant):
//!   `report.vulnerabilities`;
//! - `ConfigAuditReport`, `RbacAssessmentReport`, `InfraAssessmentReport`
//!   (and their cluster-scoped variants): `report.checks`, of which only
//!   failed checks (`success: false`) are findings;
//! - `ExposedSecretReport`: `report.secrets`;
//! - `ClusterComplianceReport`: the failed checks of
//!   `status.detailReport.results` (report type `all`), or the controls of
//!   `status.summaryReport.controlCheck` that failed on some resources
//!   (report type `summary`);
//! - `SbomReport` (and the cluster-scoped variant): no findings, only its
//!   workload, image and scope.
//!
//! # Field mapping
//!
//! - Vulnerability: `vulnerabilityID` -> `rule_id` and the vulnerability
//!   id; `resource`, `installedVersion`, `packageType`, `packagePURL` ->
//!   `component`; `fixedVersion` (comma separated) -> `fix.fixed_versions`;
//!   `severity` (else `score`) -> `severity`; `score` -> the attribute
//!   `cvss_score`; `primaryLink` and `links` -> `references`; `title` ->
//!   the end of `title`; `description` -> `description`; `target` and
//!   `class` -> attributes; `pkgPath` -> `location.path`.
//! - Check: `checkID` (else the title) -> `rule_id`; `checkID - title` ->
//!   `title`; `severity` -> `severity`; `description` -> `description`;
//!   `messages` -> `evidence`; `remediation` -> `fix.description`;
//!   `category` -> an attribute.
//! - Secret: `ruleID` -> `rule_id`; `title` and `target` -> `title`;
//!   `target` -> `location.path`; `match` -> `evidence`, masked (see
//!   below); `severity` -> `severity`; `category` -> an attribute.
//! - Compliance check: `checkID` -> `rule_id`; the control id, the check id
//!   and the check `target` -> `title`; the check's `severity`, else the
//!   control's -> `severity`; `target` -> the asset. A summary control:
//!   its `id` -> `rule_id`, `totalFail` -> the attribute `total_fail`.
//! - Assets: the workload, keyed `namespace/Kind/name`. The labels
//!   `trivy-operator.resource.kind`, `.name` and `.namespace` name it,
//!   else the first owner reference does. The workload runs (`RunsOn`)
//!   the container image of `report.registry` and `report.artifact`, and
//!   the image contains the vulnerable components. A compliance check's
//!   `target` (`kube-system/daemonset-cilium`) names a workload the same
//!   way where its kind is a known Kubernetes kind.
//!
//! Trivy replaces secrets with asterisks before it writes `match`, so a
//! redacted match is kept as evidence and `finding.secret` stays empty. A
//! match without asterisks is treated as clear text: its value is masked
//! and the clear value never leaves the parser.
//!
//! A compliance report may list the same failed check for the same
//! resource more than once (once per container, without naming the
//! container). Such repeats are one finding, with their number in the
//! attribute `occurrences`.
//!
//! # Scope target
//!
//! The workload and the report family, such as
//! `namespace/Kind/name#vulnerabilities` (the other families end in
//! `#config-audit`, `#exposed-secrets`, `#rbac-assessment`,
//! `#infra-assessment` and `#sbom`). The operator writes one report of
//! each family per workload (per container for vulnerabilities and
//! secrets), and an export of one family must not close the findings of
//! another. A compliance report covers `ClusterComplianceReport/<name>`.
//!
//! # Fingerprint
//!
//! The tool `trivy-operator`, the rule id, the workload (or the resource
//! of a compliance check), the component's purl (else its name and
//! version), the package path or the secret's file, and for compliance
//! checks the benchmark and control id as the tool fingerprint.
//!
//! # Not read yet
//!
//! `report.summary` (counts that the findings repeat), `report.os`
//! beyond an attribute, `updateTimestamp`, the SBOM components of
//! `SbomReport`, and `spec.compliance` (the control definitions).
//!
//! Kubernetes stores each report as one object, and the API server
//! rejects objects above about 1.5 MiB (etcd's default request limit), so
//! each report is read whole; a list of reports is read one report at a
//! time.
//!
//! # Reference
//!
//! <https://aquasecurity.github.io/trivy-operator/latest/docs/crds/> and
//! the Go types in `pkg/apis/aquasecurity/v1alpha1` of
//! <https://github.com/aquasecurity/trivy-operator>.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::BufRead;

use ctem_model::{Asset, AssetKey, AssetKind, Component, Finding, FindingKind, Purl, RelationshipKind, Severity};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::report_shared::{self, AssetSet, EachElement, null_as_default};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "trivy-operator-json";
const TOOL: &str = "trivy-operator";

/// The API group of the Trivy Operator's custom resources.
const API_GROUP: &str = "aquasecurity.github.io";

/// The only version of the custom resources that the operator has
/// published, and so the only one this parser reads.
const API_VERSION: &str = "aquasecurity.github.io/v1alpha1";

/// The Trivy Operator JSON parser.
pub struct TrivyOperatorJson;

impl Parser for TrivyOperatorJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Trivy Operator reports (JSON)",
            tool: "Trivy Operator",
            versions: "aquasecurity.github.io/v1alpha1 custom resources (Trivy Operator 0.x)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        let has = |key: &[u8]| util::contains(head, key);
        if !head.starts_with(b"{") && !head.starts_with(b"[") {
            return Detection::No;
        }
        let group = has(b"aquasecurity.github.io");
        let kinds = [
            &b"VulnerabilityReport"[..],
            b"ConfigAuditReport",
            b"ExposedSecretReport",
            b"RbacAssessmentReport",
            b"InfraAssessmentReport",
            b"ClusterComplianceReport",
            b"SbomReport",
            b"vulnerabilityreports.aquasecurity.github.io",
        ];
        if group && kinds.iter().any(|kind| has(kind)) {
            Detection::Certain
        } else if has(b"trivy-operator.resource.kind") {
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
            assets: AssetSet::default(),
            reports: 0,
        };
        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        DocumentSeed { emitter: &mut emitter }
            .deserialize(&mut deserializer)
            .and_then(|()| deserializer.end())
            .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))
    }
}

// ---------------------------------------------------------------------------
// Custom resources, deserialized leniently.
// ---------------------------------------------------------------------------

/// One custom resource, read whole.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Resource {
    api_version: Option<String>,
    kind: Option<String>,
    metadata: Metadata,
    report: Option<Report>,
    status: Option<ComplianceStatus>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Metadata {
    name: Option<String>,
    namespace: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    labels: BTreeMap<String, String>,
    #[serde(deserialize_with = "null_as_default")]
    owner_references: Vec<OwnerReference>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OwnerReference {
    kind: Option<String>,
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Report {
    artifact: Option<Artifact>,
    registry: Option<Registry>,
    os: Option<Os>,
    #[serde(deserialize_with = "null_as_default")]
    vulnerabilities: Vec<Vulnerability>,
    #[serde(deserialize_with = "null_as_default")]
    checks: Vec<Check>,
    #[serde(deserialize_with = "null_as_default")]
    secrets: Vec<Secret>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Artifact {
    repository: Option<String>,
    tag: Option<String>,
    digest: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Registry {
    server: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Os {
    family: Option<String>,
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Vulnerability {
    #[serde(rename = "vulnerabilityID")]
    vulnerability_id: Option<String>,
    resource: Option<String>,
    installed_version: Option<String>,
    fixed_version: Option<String>,
    severity: Option<String>,
    title: Option<String>,
    description: Option<String>,
    primary_link: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    links: Vec<String>,
    score: Option<f64>,
    target: Option<String>,
    class: Option<String>,
    package_type: Option<String>,
    #[serde(rename = "packagePURL")]
    package_purl: Option<String>,
    pkg_path: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Check {
    #[serde(rename = "checkID")]
    check_id: Option<String>,
    title: Option<String>,
    severity: Option<String>,
    category: Option<String>,
    description: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    messages: Vec<String>,
    remediation: Option<String>,
    success: Option<bool>,
    /// The resource a compliance check failed on.
    target: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Secret {
    #[serde(rename = "ruleID")]
    rule_id: Option<String>,
    title: Option<String>,
    severity: Option<String>,
    category: Option<String>,
    target: Option<String>,
    #[serde(rename = "match")]
    matched: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ComplianceStatus {
    detail_report: Option<DetailReport>,
    summary_report: Option<SummaryReport>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DetailReport {
    id: Option<String>,
    title: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    results: Vec<ControlResult>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ControlResult {
    id: Option<String>,
    name: Option<String>,
    severity: Option<String>,
    description: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    checks: Vec<Check>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SummaryReport {
    id: Option<String>,
    title: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    control_check: Vec<ControlSummary>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ControlSummary {
    id: Option<String>,
    name: Option<String>,
    severity: Option<String>,
    total_fail: Option<u64>,
}

// ---------------------------------------------------------------------------
// Normalizing resources.
// ---------------------------------------------------------------------------

/// The report families, with the suffix of their scope target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Vulnerabilities,
    ConfigAudit,
    ExposedSecrets,
    RbacAssessment,
    InfraAssessment,
    Sbom,
    Compliance,
}

impl Family {
    fn of(kind: &str) -> Option<Family> {
        let kind = kind.strip_prefix("Cluster").unwrap_or(kind);
        let family = match kind {
            "VulnerabilityReport" => Family::Vulnerabilities,
            "ConfigAuditReport" => Family::ConfigAudit,
            "ExposedSecretReport" => Family::ExposedSecrets,
            "RbacAssessmentReport" => Family::RbacAssessment,
            "InfraAssessmentReport" => Family::InfraAssessment,
            "SbomReport" => Family::Sbom,
            "ComplianceReport" => Family::Compliance,
            _ => return None,
        };
        Some(family)
    }

    fn suffix(self) -> &'static str {
        match self {
            Family::Vulnerabilities => "vulnerabilities",
            Family::ConfigAudit => "config-audit",
            Family::ExposedSecrets => "exposed-secrets",
            Family::RbacAssessment => "rbac-assessment",
            Family::InfraAssessment => "infra-assessment",
            Family::Sbom => "sbom",
            Family::Compliance => "compliance",
        }
    }
}

struct Emitter<'a> {
    sink: &'a mut dyn Sink,
    assets: AssetSet,
    /// The number of resources read, for error messages.
    reports: usize,
}

/// Findings of one report in the order first seen, with exact repeats
/// counted instead of sent twice.
#[derive(Default)]
struct Findings {
    list: Vec<(Finding, u32)>,
    index: HashMap<String, usize>,
}

impl Findings {
    fn add(&mut self, finding: Finding) {
        let fingerprint = finding.fingerprint().to_string();
        match self.index.get(&fingerprint) {
            Some(&position) => self.list[position].1 += 1,
            None => {
                self.index.insert(fingerprint, self.list.len());
                self.list.push((finding, 1));
            }
        }
    }

    fn send(self, sink: &mut dyn Sink) {
        for (mut finding, occurrences) in self.list {
            if occurrences > 1 {
                finding.attributes.insert("occurrences".into(), occurrences.to_string());
            }
            sink.finding(finding);
        }
    }
}

impl Emitter<'_> {
    /// Normalizes one resource and sends its records.
    fn resource(&mut self, resource: Resource) -> Result<(), String> {
        self.reports += 1;
        let number = self.reports;
        let kind = util::non_empty(resource.kind.as_deref())
            .ok_or_else(|| format!("resource {number} has no kind: expected a Trivy Operator report"))?;
        if let Some(api_version) = resource.api_version.as_deref()
            && api_version != API_VERSION
        {
            return Err(format!(
                "resource {number} ({kind}) has apiVersion {api_version:?}: this parser reads {API_VERSION}"
            ));
        }
        let family = Family::of(&kind).ok_or_else(|| {
            format!(
                "resource {number} is a {kind}, which is no Trivy Operator report: expected VulnerabilityReport, \
                 ConfigAuditReport, ExposedSecretReport, RbacAssessmentReport, InfraAssessmentReport, SbomReport \
                 or ClusterComplianceReport"
            )
        })?;

        if family == Family::Compliance {
            return self.compliance(&resource.metadata, resource.status.unwrap_or_default());
        }
        let report = resource.report.unwrap_or_default();
        let workload = self.workload(&resource.metadata, &kind);
        let target = format!("{}#{}", workload.identifier(), family.suffix());
        self.sink.target(TOOL, &target);
        let image = self.image(&report, &workload);
        let mut findings = Findings::default();
        let container = resource.metadata.labels.get("trivy-operator.container.name").cloned();

        for record in report.vulnerabilities {
            let image = image.as_ref().unwrap_or(&workload);
            let (mut finding, component) = vulnerability(record, &workload)?;
            if let Some(component) = &component {
                self.assets.send_component(self.sink, image, component);
            }
            finding.component = component;
            if let Some(os) = report.os.as_ref().and_then(os_name) {
                finding.attributes.insert("os".into(), os);
            }
            findings.add(scoped(finding, &target, container.as_deref()));
        }
        for record in report.checks.into_iter().filter(|check| check.success != Some(true)) {
            let finding = check(record, &workload, family)?;
            findings.add(scoped(finding, &target, container.as_deref()));
        }
        for record in report.secrets {
            let finding = secret(record, &workload)?;
            findings.add(scoped(finding, &target, container.as_deref()));
        }
        findings.send(self.sink);
        Ok(())
    }

    /// Sends the workload that a report's labels name and returns its key.
    fn workload(&mut self, metadata: &Metadata, report_kind: &str) -> AssetKey {
        let label = |name: &str| {
            metadata
                .labels
                .get(&format!("trivy-operator.resource.{name}"))
                .and_then(|value| util::non_empty(Some(value)))
        };
        let owner = metadata.owner_references.first();
        let kind = label("kind")
            .or_else(|| owner.and_then(|owner| util::non_empty(owner.kind.as_deref())))
            .unwrap_or_else(|| report_kind.to_string());
        let name = label("name")
            .or_else(|| owner.and_then(|owner| util::non_empty(owner.name.as_deref())))
            .or_else(|| util::non_empty(metadata.name.as_deref()))
            .unwrap_or_else(|| "unnamed".to_string());
        let namespace = label("namespace").or_else(|| util::non_empty(metadata.namespace.as_deref()));
        self.send_workload(namespace.as_deref(), &kind, &name)
    }

    fn send_workload(&mut self, namespace: Option<&str>, kind: &str, name: &str) -> AssetKey {
        let identifier = match namespace {
            Some(namespace) => format!("{namespace}/{kind}/{name}"),
            None => format!("{kind}/{name}"),
        };
        let mut asset = Asset::new(AssetKind::KubernetesWorkload, &identifier, identifier.clone());
        asset.attributes.insert("kind".into(), kind.to_string());
        if let Some(namespace) = namespace {
            asset.attributes.insert("namespace".into(), namespace.to_string());
        }
        let key = asset.key.clone();
        self.assets.send(self.sink, asset);
        key
    }

    /// Sends the image of a report, which the workload runs, and returns
    /// its key.
    fn image(&mut self, report: &Report, workload: &AssetKey) -> Option<AssetKey> {
        let artifact = report.artifact.as_ref()?;
        let repository = util::non_empty(artifact.repository.as_deref())?;
        let server = report
            .registry
            .as_ref()
            .and_then(|registry| util::non_empty(registry.server.as_deref()));
        let name = match server {
            Some(server) => format!("{server}/{repository}"),
            None => repository,
        };
        let tag = util::non_empty(artifact.tag.as_deref());
        let digest = util::non_empty(artifact.digest.as_deref());
        let reference = match (&tag, &digest) {
            (Some(tag), _) => format!("{name}:{tag}"),
            (None, Some(digest)) => format!("{name}@{digest}"),
            (None, None) => name,
        };

        let mut asset = Asset::new(AssetKind::ContainerImage, &reference, reference.clone());
        if tag.is_some() {
            asset.add_identifier("repo_tag", reference.clone());
        }
        if let Some(digest) = digest {
            asset.add_identifier("image_digest", digest);
        }
        if let Some(os) = report.os.as_ref().and_then(os_name) {
            asset.attributes.insert("os".into(), os);
        }
        let key = asset.key.clone();
        self.assets.send(self.sink, asset);
        self.assets.relate(self.sink, workload, RelationshipKind::RunsOn, &key);
        Some(key)
    }

    fn compliance(&mut self, metadata: &Metadata, status: ComplianceStatus) -> Result<(), String> {
        let name = util::non_empty(metadata.name.as_deref()).unwrap_or_else(|| "unnamed".to_string());
        let target = format!("ClusterComplianceReport/{name}");
        self.sink.target(TOOL, &target);
        let mut findings = Findings::default();

        if let Some(detail) = status.detail_report {
            let benchmark = util::non_empty(detail.id.as_deref()).unwrap_or_else(|| name.clone());
            for mut control in detail.results {
                let checks = std::mem::take(&mut control.checks);
                let control_id = util::non_empty(control.id.as_deref()).unwrap_or_default();
                for record in checks.into_iter().filter(|check| check.success != Some(true)) {
                    let asset = self.check_target(record.target.as_deref(), &target);
                    let mut finding = compliance_check(record, &control, &control_id, asset)?;
                    finding.tool_fingerprint = Some(format!("{benchmark}:{control_id}"));
                    if let Some(title) = util::non_empty(detail.title.as_deref()) {
                        finding.attributes.insert("benchmark".into(), title);
                    }
                    findings.add(scoped(finding, &target, None));
                }
            }
        }
        if let Some(summary) = status.summary_report {
            let cluster = self.cluster(&target);
            let benchmark =
                util::non_empty(summary.title.as_deref()).or_else(|| util::non_empty(summary.id.as_deref()));
            for control in summary.control_check {
                let failed = control.total_fail.unwrap_or(0);
                if failed == 0 {
                    continue;
                }
                let Some(id) = util::non_empty(control.id.as_deref()) else {
                    return Err(format!("a control of {target} has no id"));
                };
                let name = util::non_empty(control.name.as_deref()).unwrap_or_else(|| id.clone());
                let mut finding = Finding::new(
                    TOOL,
                    &id,
                    FindingKind::Misconfiguration,
                    format!("{id} {name}"),
                    Severity::Info,
                    cluster.clone(),
                );
                finding.severity =
                    util::severity_or_cvss(report_shared::severity_word(control.severity.as_deref()), &finding);
                finding.attributes.insert("total_fail".into(), failed.to_string());
                if let Some(benchmark) = &benchmark {
                    finding.attributes.insert("benchmark".into(), benchmark.clone());
                }
                findings.add(scoped(finding, &target, None));
            }
        }
        findings.send(self.sink);
        Ok(())
    }

    /// Sends the cluster that a summary compliance report covers.
    fn cluster(&mut self, target: &str) -> AssetKey {
        let mut asset = Asset::new(AssetKind::Other, target, target.to_string());
        asset.attributes.insert("kind".into(), "kubernetes_cluster".into());
        let key = asset.key.clone();
        self.assets.send(self.sink, asset);
        key
    }

    /// Sends the resource that a compliance check names
    /// (`kube-system/daemonset-cilium`, `/clusterrole-admin`), keyed as a
    /// workload where its kind is known.
    fn check_target(&mut self, text: Option<&str>, report_target: &str) -> AssetKey {
        let Some(text) = util::non_empty(text) else {
            return self.cluster(report_target);
        };
        let (namespace, resource) = match text.split_once('/') {
            Some((namespace, resource)) => (util::non_empty(Some(namespace)), resource.to_string()),
            None => (None, text.clone()),
        };
        match split_kind(&resource) {
            Some((kind, name)) => self.send_workload(namespace.as_deref(), kind, name),
            None => {
                let asset = Asset::new(AssetKind::KubernetesWorkload, &text, text.clone());
                let key = asset.key.clone();
                self.assets.send(self.sink, asset);
                key
            }
        }
    }
}

/// Sets the scope target of a finding and the container it is in.
fn scoped(mut finding: Finding, target: &str, container: Option<&str>) -> Finding {
    finding.target = Some(target.to_string());
    if let Some(container) = container {
        finding.attributes.insert("container".into(), container.to_string());
    }
    finding
}

fn os_name(os: &Os) -> Option<String> {
    let parts: Vec<String> = [&os.family, &os.name]
        .into_iter()
        .filter_map(|part| util::non_empty(part.as_deref()))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Kubernetes kinds as the Trivy Operator writes them in lowercase in the
/// names of resources (`daemonset-cilium`), longest first so that
/// `clusterrolebinding-` is not taken for `clusterrole-`.
const KINDS: [(&str, &str); 19] = [
    ("replicationcontroller", "ReplicationController"),
    ("clusterrolebinding", "ClusterRoleBinding"),
    ("serviceaccount", "ServiceAccount"),
    ("networkpolicy", "NetworkPolicy"),
    ("statefulset", "StatefulSet"),
    ("rolebinding", "RoleBinding"),
    ("clusterrole", "ClusterRole"),
    ("replicaset", "ReplicaSet"),
    ("deployment", "Deployment"),
    ("daemonset", "DaemonSet"),
    ("configmap", "ConfigMap"),
    ("namespace", "Namespace"),
    ("cronjob", "CronJob"),
    ("service", "Service"),
    ("ingress", "Ingress"),
    ("role", "Role"),
    ("node", "Node"),
    ("pod", "Pod"),
    ("job", "Job"),
];

/// Splits `daemonset-cilium` into the kind `DaemonSet` and the name.
fn split_kind(resource: &str) -> Option<(&'static str, &str)> {
    KINDS.iter().find_map(|(prefix, kind)| {
        let name = resource.strip_prefix(prefix)?.strip_prefix('-')?;
        (!name.is_empty()).then_some((*kind, name))
    })
}

fn vulnerability(record: Vulnerability, workload: &AssetKey) -> Result<(Finding, Option<Component>), String> {
    let Some(id) = util::non_empty(record.vulnerability_id.as_deref()) else {
        return Err("a vulnerability has no vulnerabilityID".to_string());
    };
    let package = util::non_empty(record.resource.as_deref());
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
        &id,
        FindingKind::Vulnerability,
        title,
        Severity::Info,
        workload.clone(),
    );
    util::add_vulnerability_id(&mut finding, &id);
    let score = record.score.filter(|score| (0.0..=10.0).contains(score));
    finding.severity = match (report_shared::severity_word(record.severity.as_deref()), score) {
        (Some(word), _) => util::severity_or_cvss(Some(word), &finding),
        (None, Some(score)) => Severity::from_cvss_score(score),
        (None, None) => Severity::Info,
    };
    if let Some(score) = score {
        finding.attributes.insert("cvss_score".into(), score.to_string());
    }
    finding.description = util::non_empty(record.description.as_deref());
    finding.references = record
        .primary_link
        .iter()
        .chain(&record.links)
        .filter_map(|link| util::non_empty(Some(link)))
        .fold(Vec::new(), |mut links, link| {
            if !links.contains(&link) {
                links.push(link);
            }
            links
        });
    finding.fix.fixed_versions = record
        .fixed_version
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter_map(|version| util::non_empty(Some(version)))
        .collect();
    finding.location.path = util::non_empty(record.pkg_path.as_deref());
    for (name, value) in [("target", record.target), ("class", record.class)] {
        if let Some(value) = util::non_empty(value.as_deref()) {
            finding.attributes.insert(name.to_string(), value);
        }
    }

    let component = package.map(|name| Component {
        name,
        version,
        purl: record
            .package_purl
            .as_deref()
            .and_then(|purl| purl.parse::<Purl>().ok()),
        ecosystem: util::non_empty(record.package_type.as_deref()),
    });
    Ok((finding, component))
}

fn check(record: Check, workload: &AssetKey, family: Family) -> Result<Finding, String> {
    let title_text = util::non_empty(record.title.as_deref());
    let Some(rule_id) = util::non_empty(record.check_id.as_deref()).or_else(|| title_text.clone()) else {
        return Err(format!("a {} check has neither checkID nor title", family.suffix()));
    };
    let title = match &title_text {
        Some(text) if *text != rule_id => format!("{rule_id} - {text}"),
        _ => rule_id.clone(),
    };
    let mut finding = Finding::new(
        TOOL,
        &rule_id,
        FindingKind::Misconfiguration,
        title,
        Severity::Info,
        workload.clone(),
    );
    finding.severity = util::severity_or_cvss(report_shared::severity_word(record.severity.as_deref()), &finding);
    finding.description = util::non_empty(record.description.as_deref());
    finding.fix.description = util::non_empty(record.remediation.as_deref());
    let messages: Vec<&str> = record
        .messages
        .iter()
        .map(|m| m.trim())
        .filter(|m| !m.is_empty())
        .collect();
    if !messages.is_empty() {
        finding.evidence = Some(messages.join("\n"));
    }
    if let Some(category) = util::non_empty(record.category.as_deref()) {
        finding.attributes.insert("category".into(), category);
    }
    Ok(finding)
}

fn compliance_check(
    record: Check,
    control: &ControlResult,
    control_id: &str,
    asset: AssetKey,
) -> Result<Finding, String> {
    let resource = util::non_empty(record.target.as_deref());
    let control_severity = control.severity.clone();
    let mut finding = check(
        Check {
            target: None,
            severity: util::non_empty(record.severity.as_deref()).or(control_severity),
            ..record
        },
        &asset,
        Family::Compliance,
    )?;
    let mut title = format!("{control_id} {}", finding.rule_id);
    if let Some(resource) = &resource {
        title = format!("{title} {resource}");
    }
    finding.title = title.trim().to_string();
    if let Some(name) = util::non_empty(control.name.as_deref()) {
        finding.attributes.insert("control".into(), name);
    }
    if finding.description.is_none() {
        finding.description = util::non_empty(control.description.as_deref());
    }
    finding.attributes.insert("control_id".into(), control_id.to_string());
    Ok(finding)
}

fn secret(record: Secret, workload: &AssetKey) -> Result<Finding, String> {
    let Some(rule_id) = util::non_empty(record.rule_id.as_deref()) else {
        return Err("a secret has no ruleID".to_string());
    };
    let path = util::non_empty(record.target.as_deref());
    let name = util::non_empty(record.title.as_deref()).unwrap_or_else(|| rule_id.clone());
    let title = match &path {
        Some(path) => format!("Secret detected in {path} - {name}"),
        None => format!("Secret detected - {name}"),
    };
    let mut finding = Finding::new(
        TOOL,
        &rule_id,
        FindingKind::Secret,
        title,
        Severity::Info,
        workload.clone(),
    );
    finding.severity = util::severity_or_cvss(report_shared::severity_word(record.severity.as_deref()), &finding);
    if let Some(matched) = util::non_empty(record.matched.as_deref()) {
        let (evidence, secret) = report_shared::mask_match(&matched);
        finding.evidence = Some(evidence);
        finding.secret = secret;
    }
    finding.location.path = path;
    if let Some(category) = util::non_empty(record.category.as_deref()) {
        finding.attributes.insert("category".into(), category);
    }
    Ok(finding)
}

// ---------------------------------------------------------------------------
// Streaming: the document and its lists of resources.
// ---------------------------------------------------------------------------

/// The whole document: one resource, an array of resources, a `List`, or
/// an object of resource arrays keyed by resource type.
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
        f.write_str("Trivy Operator reports: a report object, an array or a List of reports")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(resource) = seq.next_element::<Resource>()? {
            self.emitter.resource(resource).map_err(de::Error::custom)?;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let emitter = self.emitter;
        let mut single = Resource::default();
        let mut is_single = false;
        let mut has_list = false;
        let mut other_keys = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "apiVersion" => single.api_version = map.next_value()?,
                "kind" => single.kind = map.next_value()?,
                "metadata" => single.metadata = map.next_value()?,
                "report" => {
                    single.report = map.next_value()?;
                    is_single = true;
                }
                "status" => {
                    single.status = map.next_value()?;
                    is_single = true;
                }
                "items" => {
                    let mut handle = |resource: Resource| emitter.resource(resource);
                    map.next_value_seed(EachElement::new("an array of Trivy Operator reports", &mut handle))?;
                    has_list = true;
                }
                _ if key.ends_with(API_GROUP) => {
                    let mut handle = |resource: Resource| emitter.resource(resource);
                    map.next_value_seed(EachElement::new("an array of Trivy Operator reports", &mut handle))?;
                    has_list = true;
                }
                _ => {
                    report_shared::remember_key(&mut other_keys, &key);
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        if is_single {
            return emitter.resource(single).map_err(de::Error::custom);
        }
        if !has_list {
            return Err(de::Error::custom(format!(
                "not a Trivy Operator export: expected a report (kind and report or status), a List with items, \
                 or arrays keyed by resource type such as vulnerabilityreports.{API_GROUP}; found {}",
                report_shared::found_keys(&other_keys)
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_split_from_names() {
        assert_eq!(
            split_kind("daemonset-csi-azuredisk-node"),
            Some(("DaemonSet", "csi-azuredisk-node"))
        );
        assert_eq!(
            split_kind("clusterrolebinding-admin"),
            Some(("ClusterRoleBinding", "admin"))
        );
        assert_eq!(split_kind("clusterrole-admin"), Some(("ClusterRole", "admin")));
        assert_eq!(split_kind("unknownkind-x"), None);
        assert_eq!(split_kind("pod-"), None);
    }

    #[test]
    fn families_of_kinds() {
        assert_eq!(Family::of("ClusterVulnerabilityReport"), Some(Family::Vulnerabilities));
        assert_eq!(Family::of("ClusterComplianceReport"), Some(Family::Compliance));
        assert_eq!(Family::of("Deployment"), None);
    }
}
