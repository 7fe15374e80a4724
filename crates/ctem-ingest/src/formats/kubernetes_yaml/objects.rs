//! Kubernetes objects: the fields ctem reads of each kind, and the assets,
//! relationships and findings they give.

use std::collections::BTreeMap;

use ctem_model::{Asset, AssetKey, AssetKind, Finding, FindingKind, Relationship, RelationshipKind, Severity};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::TOOL;
use crate::formats::inventory_shared::Records;

/// The namespace of a namespaced object whose manifest names none: what
/// `kubectl apply` uses without `--namespace` or a context namespace.
const DEFAULT_NAMESPACE: &str = "default";

/// Host paths whose mount gives a container the node: its root file
/// system and the container runtimes' sockets.
const NODE_PATHS: &[&str] = &[
    "/",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/run/crio/crio.sock",
];

/// The kinds that run pods, with the path of their pod template.
const WORKLOAD_KINDS: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
];

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Object<S> {
    api_version: Option<String>,
    metadata: Metadata,
    spec: S,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Metadata {
    name: Option<String>,
    namespace: Option<String>,
    labels: BTreeMap<String, Value>,
    annotations: BTreeMap<String, Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct WorkloadSpec {
    replicas: Option<Value>,
    template: Option<PodTemplate>,
    job_template: Option<Box<JobTemplate>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct JobTemplate {
    spec: WorkloadSpec,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct PodTemplate {
    metadata: Metadata,
    spec: PodSpec,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct PodSpec {
    containers: Vec<Container>,
    init_containers: Vec<Container>,
    ephemeral_containers: Vec<Container>,
    volumes: Vec<Volume>,
    service_account_name: Option<String>,
    service_account: Option<String>,
    automount_service_account_token: Option<bool>,
    host_network: Option<bool>,
    host_pid: Option<bool>,
    security_context: SecurityContext,
    image_pull_secrets: Vec<NameRef>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Container {
    name: Option<String>,
    image: Option<String>,
    env: Vec<EnvVar>,
    env_from: Vec<EnvFrom>,
    security_context: SecurityContext,
}

/// An environment variable. Its `value` is never read: a literal value
/// may be a credential.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct EnvVar {
    value_from: Option<EnvSource>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct EnvSource {
    secret_key_ref: Option<NameRef>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct EnvFrom {
    secret_ref: Option<NameRef>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct NameRef {
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SecurityContext {
    privileged: Option<bool>,
    run_as_user: Option<i64>,
    run_as_non_root: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Volume {
    name: Option<String>,
    secret: Option<SecretVolume>,
    projected: Option<Projected>,
    host_path: Option<HostPath>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SecretVolume {
    secret_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Projected {
    sources: Vec<ProjectedSource>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ProjectedSource {
    secret: Option<NameRef>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct HostPath {
    path: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ServiceSpec {
    #[serde(rename = "type")]
    service_type: Option<String>,
    selector: BTreeMap<String, Value>,
    ports: Vec<ServicePort>,
    cluster_ip: Option<String>,
    #[serde(rename = "externalIPs")]
    external_ips: Vec<String>,
    external_name: Option<String>,
    load_balancer_source_ranges: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ServicePort {
    protocol: Option<String>,
    port: Option<i64>,
    target_port: Option<Value>,
    node_port: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct IngressSpec {
    rules: Vec<IngressRule>,
    default_backend: Option<Backend>,
    /// `extensions/v1beta1` and `networking.k8s.io/v1beta1`.
    backend: Option<Backend>,
    tls: Vec<IngressTls>,
    ingress_class_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct IngressRule {
    host: Option<String>,
    http: Option<IngressHttp>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct IngressHttp {
    paths: Vec<IngressPath>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct IngressPath {
    backend: Backend,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Backend {
    service: Option<BackendService>,
    service_name: Option<String>,
    service_port: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct BackendService {
    name: Option<String>,
    port: Option<BackendPort>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct BackendPort {
    number: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct IngressTls {
    hosts: Vec<String>,
}

/// The fields of a Secret that ctem reads: never `data` or `stringData`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct SecretObject {
    metadata: Metadata,
    #[serde(rename = "type")]
    secret_type: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct ServiceAccountObject {
    metadata: Metadata,
    automount_service_account_token: Option<bool>,
    secrets: Vec<NameRef>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RoleObject {
    metadata: Metadata,
    rules: Vec<PolicyRule>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct PolicyRule {
    api_groups: Vec<String>,
    resources: Vec<String>,
    resource_names: Vec<String>,
    verbs: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct BindingObject {
    metadata: Metadata,
    subjects: Vec<Subject>,
    role_ref: RoleRef,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Subject {
    kind: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RoleRef {
    kind: Option<String>,
    name: Option<String>,
}

/// A workload's pod labels, kept to match Service selectors at the end.
struct PodLabels {
    namespace: String,
    workload: AssetKey,
    labels: BTreeMap<String, String>,
}

/// A Service's selector, kept to match workloads at the end.
struct Selector {
    namespace: String,
    service: AssetKey,
    selector: BTreeMap<String, String>,
    /// (protocol, target port) of each port whose target is a number.
    targets: Vec<(String, Option<u16>)>,
}

/// The state of one manifest file: the records sent, and the selectors
/// and pod labels that wait for the end of the file.
pub(super) struct Cluster<'s> {
    pub records: Records<'s>,
    pub target: String,
    pub objects: usize,
    pods: Vec<PodLabels>,
    selectors: Vec<Selector>,
}

/// Builds the asset of a Kubernetes object, keyed
/// `k8s:<namespace>/<kind>/<name>` with an empty namespace for
/// cluster-scoped objects (`k8s:/ClusterRole/admin`).
fn object_asset(kind: AssetKind, namespace: &str, object_kind: &str, name: &str) -> Asset {
    let mut asset = Asset::new(kind, &format!("k8s:{namespace}/{object_kind}/{name}"), name);
    asset.attributes.insert("k8s_kind".into(), object_kind.into());
    if !namespace.is_empty() {
        asset.attributes.insert("namespace".into(), namespace.into());
    }
    asset
}

/// Returns a label value as text, because manifests write `version: 2`
/// as well as `"2"`.
fn label_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn labels(map: &BTreeMap<String, Value>) -> BTreeMap<String, String> {
    map.iter()
        .map(|(key, value)| (key.clone(), label_text(value)))
        .collect()
}

fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Reads a value into a typed object. The error message quotes no value
/// of the manifest, because environment values and Secret data may be
/// credentials.
fn typed<T: DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_json::from_value(value).map_err(|error| scrub(&error.to_string()))
}

/// Removes the quoted values from a serde message (`invalid type: string
/// "hunter2", expected a boolean` keeps `invalid type: string, expected a
/// boolean`).
fn scrub(message: &str) -> String {
    let mut output = String::with_capacity(message.len());
    let mut quoted = false;
    for character in message.chars() {
        if character == '"' {
            quoted = !quoted;
            if output.ends_with(' ') && quoted {
                output.pop();
            }
        } else if !quoted {
            output.push(character);
        }
    }
    output
}

impl<'s> Cluster<'s> {
    pub(super) fn new(records: Records<'s>, target: String) -> Self {
        Cluster {
            records,
            target,
            objects: 0,
            pods: Vec::new(),
            selectors: Vec::new(),
        }
    }

    /// Reads one object (or the items of a `List`). Objects of kinds that
    /// ctem does not read (ConfigMap, Namespace, custom resources) count
    /// as read and give nothing.
    pub(super) fn object(&mut self, value: Value) -> Result<(), String> {
        let Value::Object(map) = &value else {
            return Err(format!(
                "expected a Kubernetes object (a mapping with apiVersion and kind), found {}",
                describe(&value)
            ));
        };
        let kind = match map.get("kind") {
            Some(Value::String(kind)) if !kind.is_empty() => kind.clone(),
            _ => return Err("the object has no kind: expected a Kubernetes manifest with apiVersion and kind".into()),
        };
        if !matches!(map.get("apiVersion"), Some(Value::String(_))) {
            return Err(format!("the {kind} object has no apiVersion"));
        }

        if kind == "List" || (kind.ends_with("List") && map.contains_key("items")) {
            let Value::Object(mut map) = value else {
                return Ok(());
            };
            return match map.remove("items") {
                Some(Value::Array(items)) => items.into_iter().try_for_each(|item| self.object(item)),
                Some(Value::Null) | None => Ok(()),
                Some(other) => Err(format!(
                    "the items of a {kind} are {}, expected a sequence",
                    describe(&other)
                )),
            };
        }

        self.objects += 1;
        match kind.as_str() {
            "Pod" => {
                let pod: Object<PodSpec> = typed(value)?;
                let labels = labels(&pod.metadata.labels);
                self.workload(
                    &kind,
                    &pod.metadata,
                    pod.api_version.as_deref(),
                    None,
                    Some((labels, &pod.spec)),
                );
            }
            kind if WORKLOAD_KINDS.contains(&kind) => {
                let object: Object<WorkloadSpec> = typed(value)?;
                let spec = if kind == "CronJob" {
                    object.spec.job_template.as_ref().map(|job| &job.spec)
                } else {
                    Some(&object.spec)
                };
                let template = spec.and_then(|spec| spec.template.as_ref());
                let pod = template.map(|template| (labels(&template.metadata.labels), &template.spec));
                self.workload(
                    kind,
                    &object.metadata,
                    object.api_version.as_deref(),
                    object.spec.replicas.as_ref(),
                    pod,
                );
            }
            "Service" => self.service(typed(value)?),
            "Ingress" => self.ingress(typed(value)?),
            "Secret" => self.secret(typed(value)?),
            "ServiceAccount" => self.service_account(typed(value)?),
            "Role" | "ClusterRole" => self.role(&kind, typed(value)?),
            "RoleBinding" | "ClusterRoleBinding" => self.binding(&kind, typed(value)?),
            _ => {}
        }
        Ok(())
    }

    fn workload(
        &mut self,
        kind: &str,
        metadata: &Metadata,
        api_version: Option<&str>,
        replicas: Option<&Value>,
        pod: Option<(BTreeMap<String, String>, &PodSpec)>,
    ) {
        let Some(name) = text(&metadata.name) else {
            return;
        };
        let namespace = text(&metadata.namespace).unwrap_or(DEFAULT_NAMESPACE).to_string();
        let mut asset = object_asset(AssetKind::KubernetesWorkload, &namespace, kind, name);
        let key = asset.key.clone();
        if let Some(api_version) = api_version {
            asset.attributes.insert("api_version".into(), api_version.into());
        }
        if let Some(replicas) = replicas {
            asset.attributes.insert("replicas".into(), label_text(replicas));
        }
        for (label, value) in labels(&metadata.labels) {
            asset.tags.push(format!("label:{label}={value}"));
        }

        let Some((pod_labels, spec)) = pod else {
            self.records.asset(asset);
            return;
        };
        let service_account = text(&spec.service_account_name)
            .or(text(&spec.service_account))
            .unwrap_or("default")
            .to_string();
        asset
            .attributes
            .insert("service_account".into(), service_account.clone());
        let containers: Vec<&Container> = spec
            .init_containers
            .iter()
            .chain(&spec.containers)
            .chain(&spec.ephemeral_containers)
            .collect();
        let names: Vec<&str> = containers.iter().filter_map(|c| text(&c.name)).collect();
        if !names.is_empty() {
            asset.attributes.insert("containers".into(), names.join(","));
        }
        let label = format!("{kind} {namespace}/{name}");
        self.records.asset(asset);

        for container in &containers {
            if let Some(image) = text(&container.image) {
                let image_asset = image_stub(image);
                self.records
                    .link(&key, RelationshipKind::RunsOn, &image_asset.key.clone());
                self.records.stub(image_asset);
            }
        }

        // Without the token, the pod cannot act as its service account.
        if spec.automount_service_account_token != Some(false) {
            let account = object_asset(AssetKind::Identity, &namespace, "ServiceAccount", &service_account);
            self.records
                .link(&key, RelationshipKind::CanAssume, &account.key.clone());
            self.records.stub(account);
        }

        for secret in secret_names(spec, &containers) {
            let credential = object_asset(AssetKind::Credential, &namespace, "Secret", &secret);
            self.records
                .link(&key, RelationshipKind::HasCredential, &credential.key.clone());
            self.records.stub(credential);
        }

        self.pod_findings(&key, &label, spec, &containers);
        self.pods.push(PodLabels {
            namespace,
            workload: key,
            labels: pod_labels,
        });
    }

    fn finding(
        &self,
        asset: &AssetKey,
        rule: &str,
        severity: Severity,
        title: String,
        parameter: Option<&str>,
    ) -> Finding {
        let mut finding = Finding::new(
            TOOL,
            rule,
            FindingKind::Misconfiguration,
            title,
            severity,
            asset.clone(),
        );
        finding.location.parameter = parameter.map(str::to_string);
        finding.target = Some(self.target.clone());
        finding
            .references
            .push("https://kubernetes.io/docs/concepts/security/pod-security-standards/".to_string());
        finding
    }

    /// Sends the findings of one pod template: privileged containers, the
    /// node's network, mounts of the node's root or runtime socket, and
    /// containers that run as root.
    fn pod_findings(&mut self, key: &AssetKey, label: &str, spec: &PodSpec, containers: &[&Container]) {
        for container in containers {
            let name = text(&container.name).unwrap_or("unnamed");
            if container.security_context.privileged == Some(true) {
                let mut finding = self.finding(
                    key,
                    "k8s-privileged-container",
                    Severity::High,
                    format!("Container {name} of {label} runs privileged"),
                    Some(name),
                );
                finding.description = Some(format!(
                    "Container {name} of {label} sets securityContext.privileged, which gives it every capability \
                     and the node's devices: escaping to the node takes one command."
                ));
                finding.fix.description =
                    Some("Remove privileged: true and add only the capabilities the container needs.".into());
                self.records.finding(finding);
            }

            let user = container
                .security_context
                .run_as_user
                .or(spec.security_context.run_as_user);
            let non_root = container
                .security_context
                .run_as_non_root
                .or(spec.security_context.run_as_non_root);
            if user == Some(0) && non_root != Some(true) {
                let mut finding = self.finding(
                    key,
                    "k8s-run-as-root",
                    Severity::Medium,
                    format!("Container {name} of {label} runs as root (runAsUser 0)"),
                    Some(name),
                );
                finding.description = Some(format!(
                    "Container {name} of {label} sets runAsUser 0 without runAsNonRoot, so a compromise of the \
                     process is a compromise of root in the container."
                ));
                finding.fix.description = Some("Run as a non-zero user and set runAsNonRoot: true.".into());
                self.records.finding(finding);
            }
        }

        if spec.host_network == Some(true) {
            let mut finding = self.finding(
                key,
                "k8s-host-network",
                Severity::Medium,
                format!("{label} uses the node's network namespace"),
                None,
            );
            finding.description = Some(format!(
                "{label} sets hostNetwork, so its containers see the node's interfaces and can reach services \
                 bound to the node's loopback address."
            ));
            finding.fix.description = Some("Remove hostNetwork: true unless the pod is a node agent.".into());
            self.records.finding(finding);
        }

        for volume in &spec.volumes {
            let Some(path) = volume.host_path.as_ref().and_then(|host| text(&host.path)) else {
                continue;
            };
            let normalized = match path.trim_end_matches('/') {
                "" => "/",
                trimmed => trimmed,
            };
            if !NODE_PATHS.contains(&normalized) {
                continue;
            }
            let volume_name = text(&volume.name).unwrap_or(normalized);
            let mut finding = self.finding(
                key,
                "k8s-host-path-node",
                Severity::High,
                format!("{label} mounts the node's {normalized}"),
                Some(volume_name),
            );
            finding.description = Some(format!(
                "Volume {volume_name} of {label} is the host path {normalized}, which gives the pod the node's \
                 files or its container runtime, and so the node."
            ));
            finding.fix.description = Some("Remove the hostPath volume, or mount a narrower path read-only.".into());
            self.records.finding(finding);
        }
    }

    fn service(&mut self, service: Object<ServiceSpec>) {
        let Some(name) = text(&service.metadata.name) else {
            return;
        };
        let namespace = text(&service.metadata.namespace)
            .unwrap_or(DEFAULT_NAMESPACE)
            .to_string();
        let mut asset = object_asset(AssetKind::Service, &namespace, "Service", name);
        let key = asset.key.clone();
        let spec = &service.spec;
        let service_type = text(&spec.service_type).unwrap_or("ClusterIP").to_string();
        asset.attributes.insert("service_type".into(), service_type.clone());
        asset.add_identifier("dns", format!("{name}.{namespace}.svc"));
        for ip in spec.cluster_ip.iter().chain(&spec.external_ips) {
            if !ip.is_empty() && ip != "None" {
                asset.add_identifier("ip", ip.clone());
            }
        }
        if let Some(external) = text(&spec.external_name) {
            asset.add_identifier("fqdn", external);
        }
        let internal = is_internal_load_balancer(&service.metadata.annotations);
        if service_type == "LoadBalancer" {
            asset.internet_exposed = Some(!internal && open_ranges(&spec.load_balancer_source_ranges));
            asset.attributes.insert(
                "load_balancer".into(),
                if internal { "internal" } else { "external" }.into(),
            );
        }
        self.records.asset(asset);

        let mut targets = Vec::new();
        for port in &spec.ports {
            let protocol = text(&port.protocol).unwrap_or("TCP").to_ascii_lowercase();
            let number = port.port.and_then(|p| u16::try_from(p).ok());
            let entry = match service_type.as_str() {
                "LoadBalancer" if !internal => Some(number),
                "NodePort" => Some(port.node_port.and_then(|p| u16::try_from(p).ok())),
                _ => None,
            };
            if let Some(entry_port) = entry {
                let ranges: Vec<&str> =
                    if service_type == "LoadBalancer" && !spec.load_balancer_source_ranges.is_empty() {
                        spec.load_balancer_source_ranges.iter().map(String::as_str).collect()
                    } else {
                        vec!["0.0.0.0/0"]
                    };
                for range in ranges {
                    let source = network(range);
                    self.records.edge(Relationship {
                        from: source.key.clone(),
                        to: key.clone(),
                        kind: RelationshipKind::NetworkReach,
                        protocol: Some(protocol.clone()),
                        port: entry_port,
                    });
                    self.records.stub(source);
                }
            }
            let target = match &port.target_port {
                Some(Value::Number(number)) => number.as_u64().and_then(|p| u16::try_from(p).ok()),
                Some(_) => None,
                None => number,
            };
            targets.push((protocol, target));
        }

        let selector = labels(&spec.selector);
        if !selector.is_empty() {
            self.selectors.push(Selector {
                namespace,
                service: key,
                selector,
                targets,
            });
        }
    }

    fn ingress(&mut self, ingress: Object<IngressSpec>) {
        let Some(name) = text(&ingress.metadata.name) else {
            return;
        };
        let namespace = text(&ingress.metadata.namespace)
            .unwrap_or(DEFAULT_NAMESPACE)
            .to_string();
        let mut asset = object_asset(AssetKind::Service, &namespace, "Ingress", name);
        let key = asset.key.clone();
        let spec = &ingress.spec;
        for host in spec.rules.iter().filter_map(|rule| text(&rule.host)) {
            asset.add_identifier("hostname", host);
        }
        if let Some(class) = text(&spec.ingress_class_name) {
            asset.attributes.insert("ingress_class".into(), class.into());
        }
        // The manifest does not say whether the controller is public;
        // an Ingress is made to be reached from outside the cluster.
        asset.internet_exposed = Some(true);
        self.records.asset(asset);

        let internet = network("0.0.0.0/0");
        let mut ports = vec![80];
        if !spec.tls.is_empty() {
            ports.push(443);
        }
        for port in ports {
            self.records.edge(Relationship {
                from: internet.key.clone(),
                to: key.clone(),
                kind: RelationshipKind::NetworkReach,
                protocol: Some("tcp".into()),
                port: Some(port),
            });
        }
        self.records.stub(internet);

        let backends = spec
            .rules
            .iter()
            .filter_map(|rule| rule.http.as_ref())
            .flat_map(|http| http.paths.iter().map(|path| &path.backend))
            .chain(spec.default_backend.iter())
            .chain(spec.backend.iter());
        for backend in backends {
            let (service, port) = match &backend.service {
                Some(service) => (text(&service.name), service.port.as_ref().and_then(|port| port.number)),
                None => (
                    text(&backend.service_name),
                    backend.service_port.as_ref().and_then(Value::as_i64),
                ),
            };
            let Some(service) = service else {
                continue;
            };
            let target = object_asset(AssetKind::Service, &namespace, "Service", service);
            self.records.edge(Relationship {
                from: key.clone(),
                to: target.key.clone(),
                kind: RelationshipKind::RoutesTo,
                protocol: Some("tcp".into()),
                port: port.and_then(|p| u16::try_from(p).ok()),
            });
            self.records.stub(target);
        }
    }

    fn secret(&mut self, secret: SecretObject) {
        let Some(name) = text(&secret.metadata.name) else {
            return;
        };
        let namespace = text(&secret.metadata.namespace).unwrap_or(DEFAULT_NAMESPACE);
        let mut asset = object_asset(AssetKind::Credential, namespace, "Secret", name);
        if let Some(secret_type) = text(&secret.secret_type) {
            asset.attributes.insert("secret_type".into(), secret_type.into());
        }
        self.records.asset(asset);
    }

    fn service_account(&mut self, account: ServiceAccountObject) {
        let Some(name) = text(&account.metadata.name) else {
            return;
        };
        let namespace = text(&account.metadata.namespace).unwrap_or(DEFAULT_NAMESPACE);
        let mut asset = object_asset(AssetKind::Identity, namespace, "ServiceAccount", name);
        let key = asset.key.clone();
        if let Some(automount) = account.automount_service_account_token {
            asset.attributes.insert("automount_token".into(), automount.to_string());
        }
        self.records.asset(asset);
        for secret in account.secrets.iter().filter_map(|s| text(&s.name)) {
            let credential = object_asset(AssetKind::Credential, namespace, "Secret", secret);
            self.records
                .link(&key, RelationshipKind::HasCredential, &credential.key.clone());
            self.records.stub(credential);
        }
    }

    /// Sends a Role or ClusterRole, with read and write edges to the
    /// Secrets its rules open: `get`, `list` and `watch` read, `create`,
    /// `update`, `patch` and `delete` write, `*` does both.
    fn role(&mut self, kind: &str, role: RoleObject) {
        let Some(name) = text(&role.metadata.name) else {
            return;
        };
        let namespace = match kind {
            "ClusterRole" => "",
            _ => text(&role.metadata.namespace).unwrap_or(DEFAULT_NAMESPACE),
        };
        let asset = object_asset(AssetKind::Identity, namespace, kind, name);
        let key = asset.key.clone();
        self.records.asset(asset);

        for rule in &role.rules {
            let core = rule.api_groups.is_empty() || rule.api_groups.iter().any(|g| g.is_empty() || g == "*");
            let secrets = rule.resources.iter().any(|r| r == "secrets" || r == "*");
            if !core || !secrets {
                continue;
            }
            let verb = |names: &[&str]| rule.verbs.iter().any(|v| v == "*" || names.contains(&v.as_str()));
            let mut kinds = Vec::new();
            if verb(&["get", "list", "watch"]) {
                kinds.push(RelationshipKind::CanRead);
            }
            if verb(&["create", "update", "patch", "delete", "deletecollection"]) {
                kinds.push(RelationshipKind::CanWrite);
            }
            let targets: Vec<Asset> = if rule.resource_names.is_empty() {
                let scope = if namespace.is_empty() { "*" } else { namespace };
                let pattern = AssetKey::new(AssetKind::Other, &format!("k8s-pattern:{scope}/Secret/*"));
                let mut asset = Asset::new(AssetKind::Other, pattern.identifier(), format!("Secrets of {scope}"));
                asset.add_identifier("k8s_pattern", format!("{scope}/Secret/*"));
                vec![asset]
            } else {
                rule.resource_names
                    .iter()
                    .map(|secret| {
                        object_asset(
                            AssetKind::Credential,
                            if namespace.is_empty() { "*" } else { namespace },
                            "Secret",
                            secret,
                        )
                    })
                    .collect()
            };
            for target in targets {
                for relationship in &kinds {
                    self.records.link(&key, *relationship, &target.key.clone());
                }
                self.records.stub(target);
            }
        }
    }

    /// Sends an edge from each subject of a binding to its role: a bound
    /// subject can act with the role's permissions.
    fn binding(&mut self, kind: &str, binding: BindingObject) {
        let binding_namespace = match kind {
            "ClusterRoleBinding" => "",
            _ => text(&binding.metadata.namespace).unwrap_or(DEFAULT_NAMESPACE),
        };
        let Some(role_name) = text(&binding.role_ref.name) else {
            return;
        };
        let role_kind = text(&binding.role_ref.kind).unwrap_or("Role");
        let role_namespace = if role_kind == "ClusterRole" {
            ""
        } else {
            binding_namespace
        };
        let role = object_asset(AssetKind::Identity, role_namespace, role_kind, role_name);
        let role_key = role.key.clone();
        self.records.stub(role);

        for subject in &binding.subjects {
            let Some(name) = text(&subject.name) else {
                continue;
            };
            let subject_asset = match text(&subject.kind) {
                Some("ServiceAccount") => {
                    let namespace = text(&subject.namespace).unwrap_or(if binding_namespace.is_empty() {
                        DEFAULT_NAMESPACE
                    } else {
                        binding_namespace
                    });
                    object_asset(AssetKind::Identity, namespace, "ServiceAccount", name)
                }
                Some(other) => object_asset(AssetKind::Identity, "", other, name),
                None => continue,
            };
            self.records
                .link(&subject_asset.key.clone(), RelationshipKind::CanAssume, &role_key);
            self.records.stub(subject_asset);
        }
    }

    /// Matches each Service's selector against the pod labels of the
    /// workloads of its namespace, and sends the stubs.
    pub(super) fn finish(mut self) {
        for selector in &self.selectors {
            for pod in &self.pods {
                let selected = pod.namespace == selector.namespace
                    && selector
                        .selector
                        .iter()
                        .all(|(label, value)| pod.labels.get(label) == Some(value));
                if !selected {
                    continue;
                }
                if selector.targets.is_empty() {
                    self.records
                        .link(&selector.service, RelationshipKind::RoutesTo, &pod.workload);
                }
                for (protocol, port) in &selector.targets {
                    self.records.edge(Relationship {
                        from: selector.service.clone(),
                        to: pod.workload.clone(),
                        kind: RelationshipKind::RoutesTo,
                        protocol: Some(protocol.clone()),
                        port: *port,
                    });
                }
            }
        }
        self.records.finish();
    }
}

/// Collects the names of the Secrets a pod uses: in environment variables, volumes
/// and image pull secrets.
fn secret_names(spec: &PodSpec, containers: &[&Container]) -> Vec<String> {
    let mut names = Vec::new();
    for container in containers {
        for env in &container.env {
            names.extend(
                env.value_from
                    .as_ref()
                    .and_then(|source| source.secret_key_ref.as_ref())
                    .and_then(|reference| text(&reference.name)),
            );
        }
        for source in &container.env_from {
            names.extend(source.secret_ref.as_ref().and_then(|reference| text(&reference.name)));
        }
    }
    for volume in &spec.volumes {
        names.extend(volume.secret.as_ref().and_then(|secret| text(&secret.secret_name)));
        for source in volume.projected.iter().flat_map(|projected| &projected.sources) {
            names.extend(source.secret.as_ref().and_then(|secret| text(&secret.name)));
        }
    }
    names.extend(spec.image_pull_secrets.iter().filter_map(|secret| text(&secret.name)));
    let mut names: Vec<String> = names.into_iter().map(str::to_string).collect();
    names.sort();
    names.dedup();
    names
}

/// Builds a stub for a container image, keyed by the reference as written.
fn image_stub(image: &str) -> Asset {
    let mut asset = Asset::new(AssetKind::ContainerImage, image, image);
    asset.add_identifier("image", image);
    if let Some((_, digest)) = image.split_once('@') {
        asset.add_identifier("image_digest", digest);
    }
    asset
}

/// Builds the internet asset for `0.0.0.0/0` and `::/0`, else a network asset.
fn network(range: &str) -> Asset {
    let range = range.trim();
    if matches!(range, "0.0.0.0/0" | "::/0") {
        let mut internet = Asset::new(AssetKind::Other, "network:internet", "internet");
        internet.internet_exposed = Some(true);
        return internet;
    }
    Asset::new(AssetKind::Other, &format!("network:{range}"), range).with_identifier("cidr", range)
}

/// Returns whether source ranges leave a load balancer open to the internet: no
/// ranges, or a range of the whole internet.
fn open_ranges(ranges: &[String]) -> bool {
    ranges.is_empty() || ranges.iter().any(|range| matches!(range.trim(), "0.0.0.0/0" | "::/0"))
}

/// Returns whether the annotations of a LoadBalancer Service ask the cloud for an
/// internal load balancer (AWS, Azure, Google Cloud).
fn is_internal_load_balancer(annotations: &BTreeMap<String, Value>) -> bool {
    let value = |name: &str| annotations.get(name).map(label_text).map(|v| v.to_ascii_lowercase());
    value("service.beta.kubernetes.io/aws-load-balancer-internal").is_some_and(|v| v == "true" || v == "0.0.0.0/0")
        || value("service.beta.kubernetes.io/aws-load-balancer-scheme").is_some_and(|v| v == "internal")
        || value("service.beta.kubernetes.io/azure-load-balancer-internal").is_some_and(|v| v == "true")
        || value("networking.gke.io/load-balancer-type").is_some_and(|v| v == "internal")
        || value("cloud.google.com/load-balancer-type").is_some_and(|v| v == "internal")
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_lose_quoted_values() {
        assert_eq!(
            scrub("invalid type: string \"hunter2\", expected a boolean"),
            "invalid type: string, expected a boolean"
        );
        assert_eq!(scrub("missing field `name`"), "missing field `name`");
    }

    #[test]
    fn internal_annotations() {
        let annotations = |name: &str, value: &str| BTreeMap::from([(name.to_string(), Value::String(value.into()))]);
        assert!(is_internal_load_balancer(&annotations(
            "service.beta.kubernetes.io/aws-load-balancer-internal",
            "true"
        )));
        assert!(is_internal_load_balancer(&annotations(
            "networking.gke.io/load-balancer-type",
            "Internal"
        )));
        assert!(!is_internal_load_balancer(&BTreeMap::new()));
    }
}
