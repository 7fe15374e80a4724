//! Kubescape JSON reports: failed posture controls (NSA, MITRE, CIS and
//! Kubescape's own frameworks) of Kubernetes resources, from a live
//! cluster or from manifest files.
//!
//! # Reads
//!
//! The output of `kubescape scan --format json` in the `v2` format version
//! (Kubescape 2.x and 3.x): a root object with `clusterName`,
//! `summaryDetails` (`controls` keyed by control id, with `name`,
//! `scoreFactor`, `baseScore`, `description`, `remediation` and
//! `category`), `resources` (`resourceID`, `object`, `source`), `results`
//! and `metadata`. Each result has a `resourceID` and its `controls`.
//! Each control has `controlID`, `name`, `rules` and, in Kubescape 3
//! reports, a `status` object (`{status, subStatus}`) that reports of
//! late 2022 do not have. Each rule has `name`, `status`, `paths`
//! (`failedPath`, `fixPath {path, value}`, `deletePath`, `reviewPath`,
//! `fixCommand`), the older `failedPaths` and `fixPaths`, and
//! `exception`.
//!
//! A report whose `metadata.scanMetadata.formatVersion` is not `v2`, or
//! the top-level array of the `v1` format, is rejected with a message.
//!
//! # Field mapping
//!
//! One finding per failed rule of a failed control and resource, as
//! DefectDojo counts them: a control can bundle several checks (CIS 5.7.3
//! "Apply Security Context" fails separately for a writable root
//! filesystem, a root user, NET_RAW and missing seccomp and SELinux
//! profiles), and each is a fix of its own. A control without a status
//! (older reports) counts as failed when a rule failed.
//!
//! | report | finding |
//! | --- | --- |
//! | `controlID` | `rule_id` |
//! | control `name`, the rule `name` when the control has several rules, and the resource `kind name` | `title` |
//! | `summaryDetails.controls[id].scoreFactor` (else `baseScore`) | `severity` (see below) |
//! | (always) | `kind` Misconfiguration |
//! | rule `name` | `tool_fingerprint`, attribute `rule` |
//! | `failedPath`, `reviewPath`, `failedPaths` | `evidence` |
//! | summary `remediation`, `fixPath`, `deletePath`, `fixCommand` | `fix.description` |
//! | summary `description` and `category` | `description` |
//! | the resource `source.relativePath` (else `sourcePath`) | `location.path` |
//! | `https://hub.armosec.io/docs/<id>` for `C-` controls | `references` |
//! | rule `status` `excluded`, or an `exception` policy on the rule | `source_status` Suppressed |
//! | control status, category, exception names | `attributes` |
//!
//! A failed rule that an exception policy matched is still written as
//! failed when the policy only asks for an alert (`alertOnly`), but
//! Kubescape's summary counts its resource as excluded, not failed, so the
//! finding is Suppressed, as for rules that the policy excluded.
//!
//! Severity follows Kubescape's own rating of a control's score factor
//! (`ControlSeverityToInt` in `kubescape/opa-utils`): 9 and above is
//! Critical, 7 High, 4 Medium, 1 Low, and below 1 Info. The severity
//! counters of Kubescape's own summaries match this rating. A control that
//! the summary does not list is Info.
//!
//! # Scope target
//!
//! `clusterName`, else [`ParseContext::default_target`] (a scan of
//! manifest files names no cluster). Each resource is an asset: a
//! [`AssetKind::KubernetesWorkload`] (an [`AssetKind::Identity`] for
//! service accounts, users and groups) keyed
//! `<cluster>/<namespace>/<kind>/<name>` as the `trivy-json` parser keys
//! `trivy k8s` workloads, so both tools name one workload alike. Empty
//! parts are left out. A workload runs on the container images its pod
//! template names.
//!
//! # Fingerprint
//!
//! Tool, control id, the resource asset, the source path and the rule name
//! as the tool fingerprint.
//!
//! # Not read yet
//!
//! `frameworks` and their scores, `prioritizedResource`, `attributes`,
//! `controlConfigurations`, the related objects of RBAC subjects (their
//! roles and bindings) and exceptions in the form of reports with a
//! control status (a control `passed` with the sub-status `w/exceptions`,
//! which gives no finding).
//!
//! # Memory
//!
//! `results` stream when `clusterName`, `summaryDetails` and `resources`
//! come first, as Kubescape 3 writes them. Older reports put
//! `summaryDetails` last, so their failed rules are held, as compact
//! records, until the end. The kind, name, path and images of every
//! resource are kept, but not the resource objects themselves.
//!
//! # Reference
//!
//! <https://kubescape.io/docs/> (JSON output) and the `PostureReport`
//! types of `kubescape/opa-utils` (`reporthandling/results/v1` and
//! `reporthandling/apis`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::io::BufRead;

use ctem_model::{
    Asset, AssetKey, AssetKind, Finding, FindingKind, Relationship, RelationshipKind, Severity, SourceStatus,
};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::iac_shared::{self, EachElement, LooseText, SeenKeys};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Sink, util};

const FORMAT_ID: &str = "kubescape-json";
const TOOL: &str = "kubescape";

/// The only format version of the object report.
const FORMAT_VERSION: &str = "v2";

/// The Kubescape JSON report parser.
pub struct KubescapeJson;

impl Parser for KubescapeJson {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Kubescape JSON",
            tool: "Kubescape",
            versions: "Kubescape 2.x and 3.x (--format json, format version v2)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        if !head.starts_with(b"{") {
            return Detection::No;
        }
        let has = |key: &[u8]| util::contains(head, key);
        // The first keys of Kubescape's PostureReport.
        let posture = has(b"\"customerGUID\"") && has(b"\"clusterName\"");
        let results = has(b"\"summaryDetails\"") || has(b"\"resourceID\"") || has(b"\"controlID\"");
        if posture && results {
            Detection::Certain
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
        let mut state = ReportState {
            sink,
            default_target: context.default_target,
            cluster: None,
            summary: None,
            resources: HashMap::new(),
            resources_read: false,
            pending: Vec::new(),
            sent: BTreeSet::new(),
        };

        let mut deserializer = serde_json::Deserializer::from_reader(reader);
        deserializer
            .deserialize_any(RootVisitor { state: &mut state })
            .and_then(|()| deserializer.end())
            .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))?;
        state.finish();
        Ok(())
    }
}

/// State of one file's parse.
struct ReportState<'a, 'c> {
    sink: &'a mut dyn Sink,
    default_target: &'c str,
    /// `clusterName` once read: `Some("")` when the report names none.
    cluster: Option<String>,
    /// The control summaries by control id, once `summaryDetails` was read.
    summary: Option<HashMap<String, ControlSummary>>,
    resources: HashMap<String, ResourceFacts>,
    resources_read: bool,
    /// Failed rules read before the facts they need.
    pending: Vec<FailedRule>,
    /// Keys of the assets already sent.
    sent: BTreeSet<AssetKey>,
}

/// Accepts the root object.
struct RootVisitor<'s, 'a, 'c> {
    state: &'s mut ReportState<'a, 'c>,
}

impl<'de> Visitor<'de> for RootVisitor<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a Kubescape report object (format version v2)")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<(), A::Error> {
        Err(de::Error::custom(
            "expected a Kubescape report object (format version v2), found an array, as the v1 format \
             of Kubescape 1.x wrote; scan again with `kubescape scan --format json --format-version v2`",
        ))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let state = self.state;
        let mut recognized = false;
        let mut seen = SeenKeys::default();
        while let Some(key) = map.next_key::<String>()? {
            seen.push(&key);
            match key.as_str() {
                "clusterName" => {
                    let name: Option<String> = map.next_value()?;
                    state.cluster = Some(util::non_empty(name.as_deref()).unwrap_or_default());
                }
                "summaryDetails" => {
                    let summary: Option<SummaryDetails> = map.next_value()?;
                    state.summary = Some(summary.and_then(|s| s.controls).unwrap_or_default());
                    recognized = true;
                }
                "resources" => {
                    map.next_value_seed(EachElement::new("an array of Kubescape resources", |resource| {
                        state.read_resource(resource);
                        Ok(())
                    }))?;
                    state.resources_read = true;
                    recognized = true;
                }
                "results" => {
                    map.next_value_seed(EachElement::new("an array of Kubescape results", |result| {
                        state.read_result(result);
                        Ok(())
                    }))?;
                    recognized = true;
                }
                "metadata" => {
                    let metadata: Option<Metadata> = map.next_value()?;
                    let version = metadata.and_then(|m| m.scan_metadata).and_then(|s| s.format_version);
                    check_format_version(version.as_deref()).map_err(de::Error::custom)?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if recognized {
            Ok(())
        } else {
            Err(de::Error::custom(format!(
                "expected a Kubescape report (an object with summaryDetails, resources and results), \
                 found {}; is this another tool's report?",
                seen.describe()
            )))
        }
    }
}

fn check_format_version(version: Option<&str>) -> Result<(), String> {
    match version.map(str::trim).filter(|v| !v.is_empty()) {
        None | Some(FORMAT_VERSION) => Ok(()),
        Some(other) => Err(format!(
            "unsupported Kubescape formatVersion {other:?}: this parser reads format version {FORMAT_VERSION}; \
             scan again with `kubescape scan --format json --format-version {FORMAT_VERSION}`"
        )),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SummaryDetails {
    controls: Option<HashMap<String, ControlSummary>>,
}

/// The summary of one control.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ControlSummary {
    name: Option<String>,
    #[serde(rename = "scoreFactor")]
    score_factor: Option<f64>,
    #[serde(rename = "baseScore")]
    base_score: Option<f64>,
    description: Option<String>,
    remediation: Option<String>,
    category: Option<Category>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Category {
    name: Option<String>,
    #[serde(rename = "subCategory")]
    sub_category: Option<Box<Category>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Metadata {
    #[serde(rename = "scanMetadata")]
    scan_metadata: Option<ScanMetadata>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ScanMetadata {
    #[serde(rename = "formatVersion")]
    format_version: Option<String>,
}

/// One scanned resource, of which only what the findings need is read.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Resource {
    #[serde(rename = "resourceID")]
    resource_id: Option<String>,
    object: Option<ResourceObject>,
    source: Option<Source>,
}

/// A Kubernetes object, or for RBAC subjects a `{kind, name, namespace}`
/// object with its related roles and bindings.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ResourceObject {
    #[serde(rename = "apiVersion")]
    api_version: Option<String>,
    kind: Option<String>,
    metadata: Option<ObjectMetadata>,
    name: Option<String>,
    namespace: Option<String>,
    #[serde(rename = "sourcePath")]
    source_path: Option<String>,
    spec: Option<WorkloadSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ObjectMetadata {
    name: Option<String>,
    namespace: Option<String>,
}

/// The parts of a pod, workload or cron job spec that name images: a pod
/// spec has `containers`, a workload a pod `template`, a cron job a
/// `jobTemplate` whose spec has a pod `template`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct WorkloadSpec {
    containers: Option<Vec<Container>>,
    #[serde(rename = "initContainers")]
    init_containers: Option<Vec<Container>>,
    template: Option<Template>,
    #[serde(rename = "jobTemplate")]
    job_template: Option<Template>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Template {
    spec: Option<Box<WorkloadSpec>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Container {
    image: LooseText,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Source {
    #[serde(rename = "relativePath")]
    relative_path: Option<String>,
}

/// The facts of a resource that its findings and asset need.
#[derive(Debug, Default, Clone)]
struct ResourceFacts {
    kind: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
    api_version: Option<String>,
    path: Option<String>,
    images: Vec<String>,
}

/// The results of one resource.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ResourceResult {
    #[serde(rename = "resourceID")]
    resource_id: Option<String>,
    controls: Option<Vec<ControlResult>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ControlResult {
    #[serde(rename = "controlID")]
    control_id: Option<String>,
    name: Option<String>,
    status: Option<ControlStatus>,
    rules: Option<Vec<RuleResult>>,
}

/// A control's status: `{"status": "failed", "subStatus": ""}` in
/// Kubescape 3 reports, or a bare word.
#[derive(Debug, Default)]
struct ControlStatus {
    status: Option<String>,
    sub_status: Option<String>,
}

impl<'de> Deserialize<'de> for ControlStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ControlStatus, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Shape {
            Word(String),
            Object {
                #[serde(default)]
                status: Option<String>,
                #[serde(default, rename = "subStatus")]
                sub_status: Option<String>,
            },
        }
        Ok(match Option::<Shape>::deserialize(deserializer)? {
            Some(Shape::Word(status)) => ControlStatus {
                status: Some(status),
                sub_status: None,
            },
            Some(Shape::Object { status, sub_status }) => ControlStatus { status, sub_status },
            None => ControlStatus::default(),
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RuleResult {
    name: Option<String>,
    status: Option<String>,
    paths: Option<Vec<RulePath>>,
    #[serde(rename = "failedPaths")]
    failed_paths: Option<Vec<LooseText>>,
    #[serde(rename = "fixPaths")]
    fix_paths: Option<Vec<FixPath>>,
    exception: Option<Vec<Exception>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RulePath {
    #[serde(rename = "failedPath")]
    failed_path: Option<String>,
    #[serde(rename = "fixPath")]
    fix_path: Option<FixPath>,
    #[serde(rename = "deletePath")]
    delete_path: Option<String>,
    #[serde(rename = "reviewPath")]
    review_path: Option<String>,
    #[serde(rename = "fixCommand")]
    fix_command: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FixPath {
    path: Option<String>,
    #[serde(deserialize_with = "util::loose_text")]
    value: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Exception {
    name: Option<String>,
}

/// One failed rule of one control on one resource, with what its finding
/// needs from the result.
#[derive(Debug)]
struct FailedRule {
    resource_id: String,
    control_id: String,
    control_name: Option<String>,
    control_status: Option<String>,
    /// The rule's name, where the control named one.
    rule: Option<String>,
    /// Whether the control has more than one rule, so that the title names
    /// the rule.
    several_rules: bool,
    status: Option<SourceStatus>,
    evidence: Vec<String>,
    fixes: Vec<String>,
    exceptions: Vec<String>,
}

impl ReportState<'_, '_> {
    fn read_resource(&mut self, resource: Resource) {
        let Some(id) = util::non_empty(resource.resource_id.as_deref()) else {
            return;
        };
        let object = resource.object.unwrap_or_default();
        let metadata = object.metadata.unwrap_or_default();
        let path = resource
            .source
            .and_then(|source| util::non_empty(source.relative_path.as_deref()))
            .or_else(|| util::non_empty(object.source_path.as_deref()).map(|p| strip_document_index(&p)));
        let mut images = Vec::new();
        if let Some(spec) = &object.spec {
            collect_images(spec, &mut images, 0);
        }
        let facts = ResourceFacts {
            kind: util::non_empty(object.kind.as_deref()),
            name: util::non_empty(metadata.name.as_deref()).or_else(|| util::non_empty(object.name.as_deref())),
            namespace: util::non_empty(metadata.namespace.as_deref())
                .or_else(|| util::non_empty(object.namespace.as_deref())),
            api_version: util::non_empty(object.api_version.as_deref()),
            path,
            images,
        };
        self.resources.insert(id, facts);
    }

    /// Turns the failed rules of one resource into findings, or keeps them
    /// until the facts they need have been read.
    fn read_result(&mut self, result: ResourceResult) {
        let Some(resource_id) = util::non_empty(result.resource_id.as_deref()) else {
            return;
        };
        let ready = self.cluster.is_some() && self.summary.is_some() && self.resources_read;
        for control in result.controls.into_iter().flatten() {
            for failed in failed_rules(&resource_id, control) {
                if ready {
                    self.emit(failed);
                } else {
                    self.pending.push(failed);
                }
            }
        }
    }

    fn target(&self) -> String {
        match self.cluster.as_deref() {
            Some(cluster) if !cluster.is_empty() => cluster.to_string(),
            _ => self.default_target.to_string(),
        }
    }

    fn emit(&mut self, failed: FailedRule) {
        let target = self.target();
        let facts = self
            .resources
            .get(&failed.resource_id)
            .cloned()
            .unwrap_or_else(|| facts_from_id(&failed.resource_id));
        let asset = self.send_resource(&failed.resource_id, &facts);
        let summary = self.summary.as_ref().and_then(|s| s.get(&failed.control_id));
        let finding = build_finding(failed, &facts, summary, asset, target);
        self.sink.finding(finding);
    }

    /// Sends a resource's asset, its images and their relationships once,
    /// and returns the asset's key.
    fn send_resource(&mut self, resource_id: &str, facts: &ResourceFacts) -> AssetKey {
        let cluster = self.cluster.clone().filter(|c| !c.is_empty());
        let asset = resource_asset(resource_id, facts, cluster.as_deref());
        let key = asset.key.clone();
        if !self.sent.insert(key.clone()) {
            return key;
        }
        self.sink.asset(asset);
        for image in &facts.images {
            let image_asset = Asset::new(AssetKind::ContainerImage, image, image.clone());
            let image_key = image_asset.key.clone();
            if self.sent.insert(image_key.clone()) {
                self.sink.asset(image_asset);
            }
            self.sink
                .relationship(Relationship::new(key.clone(), RelationshipKind::RunsOn, image_key));
        }
        key
    }

    /// Declares the scope, sends the findings held back and the assets of
    /// resources without findings.
    fn finish(&mut self) {
        let target = self.target();
        self.sink.target(TOOL, &target);

        for failed in std::mem::take(&mut self.pending) {
            self.emit(failed);
        }

        let mut resources: Vec<(String, ResourceFacts)> = self.resources.drain().collect();
        resources.sort_by(|a, b| a.0.cmp(&b.0));
        for (id, facts) in resources {
            self.send_resource(&id, &facts);
        }
    }
}

/// Returns the failed rules of one control on one resource (see the module
/// docs for which rules count).
fn failed_rules(resource_id: &str, control: ControlResult) -> Vec<FailedRule> {
    let Some(control_id) = util::non_empty(control.control_id.as_deref()) else {
        return Vec::new();
    };
    let control_status = control
        .status
        .as_ref()
        .and_then(|s| util::non_empty(s.status.as_deref()))
        .map(|s| s.to_ascii_lowercase());
    // A control with a status other than failed or excluded (passed,
    // skipped, irrelevant) gives no finding, whatever its rules' status.
    if control_status
        .as_deref()
        .is_some_and(|s| s != "failed" && s != "excluded")
    {
        return Vec::new();
    }
    let sub_status = control
        .status
        .as_ref()
        .and_then(|s| util::non_empty(s.sub_status.as_deref()));

    let rules = control.rules.unwrap_or_default();
    let several_rules = rules.len() > 1;
    let mut failed = Vec::new();
    for rule in rules {
        let excepted = rule.exception.as_ref().is_some_and(|list| !list.is_empty());
        let status = match rule.status.as_deref().map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            Some("failed") if !excepted => None,
            Some("failed" | "excluded") => Some(SourceStatus::Suppressed),
            _ => continue,
        };
        let (evidence, fixes) = rule_paths(&rule);
        let exceptions: Vec<String> = rule
            .exception
            .iter()
            .flatten()
            .filter_map(|e| util::non_empty(e.name.as_deref()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        failed.push(FailedRule {
            resource_id: resource_id.to_string(),
            control_id: control_id.clone(),
            control_name: util::non_empty(control.name.as_deref()),
            control_status: control_status.clone(),
            rule: util::non_empty(rule.name.as_deref()),
            several_rules,
            status,
            evidence,
            fixes,
            exceptions,
        });
    }

    // A failed control whose rules name no failure still failed.
    if failed.is_empty() && control_status.as_deref() == Some("failed") {
        failed.push(FailedRule {
            resource_id: resource_id.to_string(),
            control_id,
            control_name: util::non_empty(control.name.as_deref()),
            control_status: Some(match sub_status {
                Some(sub_status) => format!("failed ({sub_status})"),
                None => "failed".to_string(),
            }),
            rule: None,
            several_rules: false,
            status: None,
            evidence: Vec::new(),
            fixes: Vec::new(),
            exceptions: Vec::new(),
        });
    }
    failed
}

/// Returns the failed paths (evidence) and the fixes (`set path to value`,
/// `remove path`, commands) of a rule.
fn rule_paths(rule: &RuleResult) -> (Vec<String>, Vec<String>) {
    let mut evidence = Vec::new();
    let mut fixes = Vec::new();
    let fix_text = |fix: &FixPath| {
        let path = util::non_empty(fix.path.as_deref())?;
        Some(match util::non_empty(fix.value.as_deref()) {
            Some(value) => format!("Set {path} to {value}"),
            None => format!("Set {path}"),
        })
    };
    for path in rule.paths.iter().flatten() {
        evidence.extend(util::non_empty(path.failed_path.as_deref()));
        evidence.extend(util::non_empty(path.review_path.as_deref()).map(|review| format!("{review} (review)")));
        fixes.extend(path.fix_path.as_ref().and_then(fix_text));
        fixes.extend(util::non_empty(path.delete_path.as_deref()).map(|delete| format!("Remove {delete}")));
        fixes.extend(util::non_empty(path.fix_command.as_deref()).map(|command| format!("Run {command}")));
    }
    evidence.extend(rule.failed_paths.iter().flatten().filter_map(LooseText::text));
    fixes.extend(rule.fix_paths.iter().flatten().filter_map(fix_text));
    evidence.dedup();
    fixes.dedup();
    (evidence, fixes)
}

/// Collects the images of a pod, workload or cron job spec. The depth
/// bound stops at the pod spec of a cron job's job template.
fn collect_images(spec: &WorkloadSpec, images: &mut Vec<String>, depth: usize) {
    let containers = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter().flatten());
    for image in containers.filter_map(|container| container.image.text()) {
        if !images.contains(&image) {
            images.push(image);
        }
    }
    if depth >= 2 {
        return;
    }
    for template in [&spec.template, &spec.job_template].into_iter().flatten() {
        if let Some(inner) = &template.spec {
            collect_images(inner, images, depth + 1);
        }
    }
}

/// Drops the document index that Kubescape appends to the path of a
/// manifest (`nginx.yaml:0` is the first document of `nginx.yaml`).
fn strip_document_index(path: &str) -> String {
    match path.rsplit_once(':') {
        Some((file, index)) if !file.is_empty() && !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()) => {
            file.to_string()
        }
        _ => path.to_string(),
    }
}

/// Reads the namespace, kind and name from a resource id where the report
/// has no resource object for it. Ids end in `<namespace>/<kind>/<name>`
/// (`path=1881121400/api=apps/v1/shop/Deployment/cart`). The id of an RBAC
/// subject starts with the subject (`/kubescape/ServiceAccount/sa`) and
/// goes on with its roles and bindings after `/path=`.
fn facts_from_id(resource_id: &str) -> ResourceFacts {
    let subject = if resource_id.starts_with("path=") {
        resource_id
    } else {
        resource_id.split("/path=").next().unwrap_or(resource_id)
    };
    let mut parts = subject.rsplit('/');
    let name = parts.next().and_then(|p| util::non_empty(Some(p)));
    let kind = parts.next().and_then(|p| util::non_empty(Some(p)));
    let namespace = parts.next().and_then(|p| util::non_empty(Some(p)));
    ResourceFacts {
        kind,
        name,
        namespace,
        ..ResourceFacts::default()
    }
}

/// Returns the part of an RBAC subject's id after the subject: its roles
/// and bindings, each with the hash of the file it came from.
fn related_part(resource_id: &str) -> Option<&str> {
    if resource_id.starts_with("path=") {
        return None;
    }
    let start = resource_id.find("/path=")?;
    Some(&resource_id[start + 1..])
}

/// Returns the roles and bindings (`ClusterRoleBinding/deployer-admin`)
/// that the id of an RBAC subject names after the subject itself.
fn related_objects(resource_id: &str) -> Vec<String> {
    let Some(related) = related_part(resource_id) else {
        return Vec::new();
    };
    related
        .split("/path=")
        .filter_map(|segment| {
            let mut parts = segment.rsplit('/');
            let name = util::non_empty(parts.next())?;
            let kind = util::non_empty(parts.next())?;
            Some(format!("{kind}/{name}"))
        })
        .collect()
}

/// Builds the asset of a resource (see the module docs for its key).
fn resource_asset(resource_id: &str, facts: &ResourceFacts, cluster: Option<&str>) -> Asset {
    let local_parts: Vec<&str> = [&facts.namespace, &facts.kind, &facts.name]
        .into_iter()
        .filter_map(|part| part.as_deref())
        .collect();
    let local = if facts.kind.is_some() && facts.name.is_some() {
        local_parts.join("/")
    } else {
        resource_id.to_string()
    };
    let identifier = match cluster {
        Some(cluster) => format!("{cluster}/{local}"),
        None => local.clone(),
    };
    let kind = match facts.kind.as_deref() {
        Some("ServiceAccount" | "User" | "Group") => AssetKind::Identity,
        _ => AssetKind::KubernetesWorkload,
    };

    let mut asset = Asset::new(kind, &identifier, local);
    let attributes = [
        ("kind", facts.kind.clone()),
        ("namespace", facts.namespace.clone()),
        ("api_version", facts.api_version.clone()),
        ("cluster", cluster.map(str::to_string)),
        ("source_path", facts.path.clone()),
    ];
    for (name, value) in attributes {
        if let Some(value) = value {
            asset.attributes.insert(name.to_string(), value);
        }
    }
    asset
}

/// Maps a control's score factor to a severity as Kubescape rates it.
fn severity_of_score(score: f64) -> Severity {
    match score {
        s if s >= 9.0 => Severity::Critical,
        s if s >= 7.0 => Severity::High,
        s if s >= 4.0 => Severity::Medium,
        s if s >= 1.0 => Severity::Low,
        _ => Severity::Info,
    }
}

fn build_finding(
    failed: FailedRule,
    facts: &ResourceFacts,
    summary: Option<&ControlSummary>,
    asset: AssetKey,
    target: String,
) -> Finding {
    let control_name = failed
        .control_name
        .clone()
        .or_else(|| summary.and_then(|s| util::non_empty(s.name.as_deref())))
        .unwrap_or_else(|| failed.control_id.clone());
    let check = match (&failed.rule, failed.several_rules) {
        (Some(rule), true) => format!("{control_name}: {rule}"),
        _ => control_name.clone(),
    };
    let resource = match (&facts.kind, &facts.name) {
        (Some(kind), Some(name)) => format!("{kind} {name}"),
        _ => failed.resource_id.clone(),
    };
    let title = format!("{check} - {resource}");
    let score = summary.and_then(|s| s.score_factor.or(s.base_score));
    let severity = score.map_or(Severity::Info, severity_of_score);

    let mut finding = Finding::new(
        TOOL,
        failed.control_id.clone(),
        FindingKind::Misconfiguration,
        title,
        severity,
        asset,
    );
    finding.location.path = facts.path.clone();
    // One service account can hold a permission through several bindings
    // and roles, even one pair defined in two files, each a result of its
    // own. The part of the id after the subject keeps them apart.
    let related = related_objects(&failed.resource_id);
    let fingerprint_parts: Vec<&str> = failed
        .rule
        .iter()
        .map(String::as_str)
        .chain(related_part(&failed.resource_id))
        .collect();
    finding.tool_fingerprint = (!fingerprint_parts.is_empty()).then(|| fingerprint_parts.join("|"));
    finding.source_status = failed.status;

    let evidence = failed.evidence.join("\n");
    finding.evidence =
        util::non_empty(Some(&evidence)).map(|e| util::truncate_text(&e, iac_shared::MAX_EVIDENCE_BYTES));
    let fixes = failed.fixes.join("\n");
    finding.fix.description = iac_shared::paragraphs([
        summary.and_then(|s| util::non_empty(s.remediation.as_deref())),
        util::non_empty(Some(&fixes)).map(|f| util::truncate_text(&f, iac_shared::MAX_EVIDENCE_BYTES)),
    ]);

    let category = summary.and_then(|s| s.category.as_ref()).and_then(category_name);
    let namespaced = match (&facts.namespace, &facts.name) {
        (Some(namespace), Some(name)) => format!("{namespace}/{name}"),
        (None, Some(name)) => name.clone(),
        _ => failed.resource_id.clone(),
    };
    let mut sentence = format!(
        "The {} {namespaced} failed control {} ({control_name})",
        facts.kind.as_deref().unwrap_or("resource"),
        failed.control_id
    );
    if let Some(rule) = &failed.rule {
        sentence.push_str(&format!(", rule {rule}"));
    }
    if !related.is_empty() {
        sentence.push_str(&format!(", through {}", related.join(" and ")));
    }
    sentence.push('.');
    if finding.source_status == Some(SourceStatus::Suppressed) {
        sentence.push_str(" An exception policy matched it");
        if !failed.exceptions.is_empty() {
            sentence.push_str(&format!(" ({})", failed.exceptions.join(", ")));
        }
        sentence.push('.');
    }
    finding.description = iac_shared::paragraphs([
        summary.and_then(|s| util::non_empty(s.description.as_deref())),
        Some(sentence),
        category.as_ref().map(|c| format!("Category: {c}.")),
    ]);

    if failed.control_id.starts_with("C-") {
        finding.references.push(format!(
            "https://hub.armosec.io/docs/{}",
            failed.control_id.to_ascii_lowercase()
        ));
    }

    let attributes = [
        ("rule", failed.rule),
        ("control_status", failed.control_status),
        ("category", category),
        ("score_factor", score.map(|s| s.to_string())),
        (
            "exceptions",
            (!failed.exceptions.is_empty()).then(|| failed.exceptions.join(", ")),
        ),
        ("related_objects", (!related.is_empty()).then(|| related.join(", "))),
        ("resource_id", Some(failed.resource_id)),
    ];
    finding.attributes = attributes
        .into_iter()
        .filter_map(|(name, value)| value.map(|value| (name.to_string(), value)))
        .collect::<BTreeMap<_, _>>();
    finding.target = Some(target);
    finding
}

/// Returns `Category > Sub-category`, or the category alone.
fn category_name(category: &Category) -> Option<String> {
    let name = util::non_empty(category.name.as_deref())?;
    let sub = category
        .sub_category
        .as_ref()
        .and_then(|sub| util::non_empty(sub.name.as_deref()));
    Some(match sub {
        Some(sub) => format!("{name} > {sub}"),
        None => name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_boundaries() {
        let cases = [
            (10.0, Severity::Critical),
            (9.0, Severity::Critical),
            (8.9, Severity::High),
            (7.0, Severity::High),
            (6.0, Severity::Medium),
            (4.0, Severity::Medium),
            (3.0, Severity::Low),
            (1.0, Severity::Low),
            (0.5, Severity::Info),
        ];
        for (score, expected) in cases {
            assert_eq!(severity_of_score(score), expected, "score {score}");
        }
    }

    #[test]
    fn ids_give_facts() {
        let facts = facts_from_id("path=983602065/api=networking.k8s.io/v1/default/NetworkPolicy/deny-all");
        assert_eq!(facts.namespace.as_deref(), Some("default"));
        assert_eq!(facts.kind.as_deref(), Some("NetworkPolicy"));
        assert_eq!(facts.name.as_deref(), Some("deny-all"));

        let cluster_scoped = facts_from_id("path=1/api=rbac.authorization.k8s.io/v1//ClusterRole/admin");
        assert_eq!(cluster_scoped.namespace, None);
        assert_eq!(cluster_scoped.kind.as_deref(), Some("ClusterRole"));

        let subject =
            facts_from_id("/shop/ServiceAccount/cart/path=2/api=rbac.authorization.k8s.io/v1//ClusterRole/cart-role");
        assert_eq!(subject.namespace.as_deref(), Some("shop"));
        assert_eq!(subject.kind.as_deref(), Some("ServiceAccount"));
        assert_eq!(subject.name.as_deref(), Some("cart"));
    }

    #[test]
    fn subject_ids_name_related_objects() {
        let related = related_objects(
            "/shop/ServiceAccount/cart/path=2/api=rbac.authorization.k8s.io/v1//ClusterRoleBinding/cart-binding\
             /path=3/api=rbac.authorization.k8s.io/v1//ClusterRole/cart-role",
        );
        assert_eq!(related, ["ClusterRoleBinding/cart-binding", "ClusterRole/cart-role"]);
        assert!(related_objects("path=1/api=apps/v1/shop/Deployment/cart").is_empty());
        assert!(related_objects("/shop/Deployment/cart").is_empty());
        assert_eq!(
            related_part("/shop/ServiceAccount/cart/path=2/api=v1//Role/r"),
            Some("path=2/api=v1//Role/r")
        );
    }

    #[test]
    fn document_index_is_dropped() {
        assert_eq!(strip_document_index("nginx.yaml:0"), "nginx.yaml");
        assert_eq!(strip_document_index("deploy/app.yaml:12"), "deploy/app.yaml");
        assert_eq!(strip_document_index("deploy/app.yaml"), "deploy/app.yaml");
        assert_eq!(strip_document_index("C:"), "C:");
        assert_eq!(strip_document_index(":3"), ":3");
    }

    #[test]
    fn format_versions() {
        assert!(check_format_version(None).is_ok());
        assert!(check_format_version(Some("v2")).is_ok());
        assert!(check_format_version(Some("")).is_ok());
        let error = check_format_version(Some("v3")).unwrap_err();
        assert!(error.contains("\"v3\""), "{error}");
    }
}
