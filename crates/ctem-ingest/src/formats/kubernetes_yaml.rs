//! Kubernetes manifests: the workloads, services, ingresses, secrets,
//! service accounts and RBAC objects of YAML or JSON manifests, read as
//! assets and relationships for the attack graph, with findings only for
//! clear misconfigurations.
//!
//! # Reads
//!
//! Manifests as `kubectl apply` takes them: multi-document YAML streams
//! (`---` and `...` markers, YAML 1.1 as the `yaml_serde` reader reads it),
//! JSON objects, and lists (`kind: List` or `<Kind>List` with `items`, as
//! `kubectl get -o yaml|json` prints them). Kinds read: Pod, Deployment,
//! StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job,
//! CronJob, Service, Ingress (`networking.k8s.io/v1` and the `v1beta1`
//! shapes), Secret, ServiceAccount, Role, ClusterRole, RoleBinding and
//! ClusterRoleBinding. Objects of other kinds (ConfigMap, Namespace,
//! custom resources) are accepted and give nothing.
//!
//! YAML documents are read one at a time, and a JSON list one item at a
//! time. A YAML document is limited to 16 MiB and to 500,000 nodes after
//! alias expansion. The YAML reader also stops exponential alias
//! expansion (the billion laughs) and nesting deeper than 128 levels,
//! and the JSON reader stops nesting deeper than 128 levels.
//!
//! # Field mapping
//!
//! - Workloads: a `KubernetesWorkload` asset keyed
//!   `k8s:<namespace>/<kind>/<name>` (`default` when the manifest names
//!   no namespace), with the labels as `label:<key>=<value>` tags and
//!   `k8s_kind`, `namespace`, `api_version`, `replicas`,
//!   `service_account` and `containers` attributes. The pod template is
//!   `spec` of a Pod, `spec.template` of the other kinds and
//!   `spec.jobTemplate.spec.template` of a CronJob. The workload `RunsOn`
//!   the `ContainerImage` of each container, init and ephemeral container
//!   (keyed by the reference as written, with an `image_digest`
//!   identifier for `@sha256:` references). It `CanAssume` its service
//!   account (an `Identity` keyed `k8s:<namespace>/ServiceAccount/<name>`,
//!   `default` when unnamed), because the pod holds the account's token,
//!   unless it sets `automountServiceAccountToken: false`. It
//!   `HasCredential` each Secret that its environment (`secretKeyRef`,
//!   `envFrom.secretRef`), volumes (`secret`, `projected`) and
//!   `imagePullSecrets` name: a `Credential` keyed
//!   `k8s:<namespace>/Secret/<name>`.
//! - Services: a `Service` asset keyed `k8s:<namespace>/Service/<name>`
//!   (lowercased, as the model keys services), with the cluster DNS name,
//!   cluster and external IPs as identifiers. It `RoutesTo` each workload
//!   of its namespace whose pod labels its selector matches, on each
//!   numeric target port. A `LoadBalancer` is `internet_exposed` and
//!   reachable (`NetworkReach`) from `other:network:internet` on each
//!   port, or from its `loadBalancerSourceRanges`, unless an annotation
//!   asks for an internal load balancer (AWS, Azure, Google Cloud). A
//!   `NodePort` is reachable from the internet on each node port, and its
//!   `internet_exposed` stays unset because that depends on the nodes'
//!   addresses.
//! - Ingresses: a `Service` asset keyed `k8s:<namespace>/Ingress/<name>`,
//!   with its hosts as `hostname` identifiers, `internet_exposed` (the
//!   manifest does not say whether the controller is public; an Ingress
//!   is made to be reached from outside), reachable from the internet on
//!   port 80 (and 443 with `tls`), and `RoutesTo` each backend Service.
//! - Secrets: a `Credential` asset with its `type`. The values of `data`
//!   and `stringData` are never read into a record and never quoted in an
//!   error, and neither are literal environment values.
//! - RBAC: Roles and ClusterRoles are identities (`k8s:/ClusterRole/<name>`
//!   for cluster-scoped objects); each subject of a binding `CanAssume`
//!   the bound role (users and groups as `k8s:/User/<name>` and
//!   `k8s:/Group/<name>`). A rule on `secrets` gives the role `CanRead`
//!   (`get`, `list`, `watch`) and `CanWrite` (`create`, `update`, `patch`,
//!   `delete`) edges to the named Secrets, or to an `other` asset keyed
//!   `k8s-pattern:<namespace or *>/Secret/*`.
//!
//! # Findings
//!
//! Only clear cases, all of kind `Misconfiguration`, on the workload:
//!
//! | rule | when | severity |
//! | --- | --- | --- |
//! | `k8s-privileged-container` | a container sets `privileged: true` | High |
//! | `k8s-host-path-node` | a `hostPath` volume is `/` or a container runtime socket | High |
//! | `k8s-host-network` | the pod sets `hostNetwork: true` | Medium |
//! | `k8s-run-as-root` | a container's effective `runAsUser` is 0 without `runAsNonRoot: true` | Medium |
//!
//! A field that the manifest leaves out is no finding: the defaults
//! depend on the cluster's admission policies.
//!
//! # Scope target
//!
//! [`ParseContext::default_target`]: a manifest names no cluster, and a
//! rescan of one manifest file must not close the findings of another.
//! The tool is `kubernetes`.
//!
//! # Fingerprint
//!
//! Tool, rule id, the workload's key, and in `location.parameter` the
//! container name (privileged, root) or the volume name (host path).
//!
//! # Not read yet
//!
//! NetworkPolicies (every pod is taken as reachable from its Services),
//! PodSecurity admission labels, capabilities, Helm templates and
//! Kustomize overlays (render them first), YAML merge keys (`<<`), and
//! custom resources.
//!
//! # Reference
//!
//! The Kubernetes API reference, <https://kubernetes.io/docs/reference/kubernetes-api/>,
//! and the Pod Security Standards,
//! <https://kubernetes.io/docs/concepts/security/pod-security-standards/>.

use std::collections::BTreeSet;
use std::fmt;
use std::io::BufRead;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::formats::inventory_shared::{self, Records};
use crate::{Detection, FormatInfo, ParseContext, ParseError, Parser, Position, Sink, util};

mod documents;
mod objects;

const FORMAT_ID: &str = "kubernetes-yaml";
const TOOL: &str = "kubernetes";

/// The API groups of the kinds this parser reads.
const GROUPS: &[&str] = &[
    "",
    "apps",
    "batch",
    "extensions",
    "networking.k8s.io",
    "rbac.authorization.k8s.io",
    "policy",
];

/// The kinds that make a file a Kubernetes manifest for detection.
const KINDS: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "Service",
    "Ingress",
    "Secret",
    "ServiceAccount",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Namespace",
    "NetworkPolicy",
    "PersistentVolumeClaim",
];

/// The Kubernetes manifest parser.
pub struct KubernetesYaml;

impl Parser for KubernetesYaml {
    fn info(&self) -> FormatInfo {
        FormatInfo {
            id: FORMAT_ID,
            name: "Kubernetes manifests",
            tool: "kubectl",
            versions: "YAML and JSON manifests of the core, apps, batch, networking.k8s.io and \
                       rbac.authorization.k8s.io APIs (v1, and the v1beta1 shapes of Ingress and CronJob)",
        }
    }

    fn detect(&self, head: &[u8]) -> Detection {
        let head = util::trim_start(head);
        let pairs = if head.starts_with(b"{") || head.starts_with(b"[") {
            json_head_objects(head)
        } else {
            yaml_head_objects(head)
        };
        let known = pairs.iter().any(|(api_version, kind)| {
            let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
            GROUPS.contains(&group) && KINDS.contains(&kind.as_str())
        });
        if known { Detection::Certain } else { Detection::No }
    }

    fn parse(
        &self,
        context: &ParseContext<'_>,
        reader: &mut dyn BufRead,
        sink: &mut dyn Sink,
    ) -> Result<(), ParseError> {
        let first = inventory_shared::first_byte(reader)
            .map_err(|error| ParseError::new(context.path, FORMAT_ID, None, format!("read failed: {error}")))?;
        let mut records = Records::new(TOOL, sink);
        records.target(context.default_target);
        let mut cluster = objects::Cluster::new(records, context.default_target.to_string());

        match first {
            Some(b'{' | b'[') => read_json(context, reader, &mut cluster)?,
            Some(_) => read_yaml(context, reader, &mut cluster)?,
            None => {}
        }
        cluster.finish();
        Ok(())
    }
}

fn read_yaml(
    context: &ParseContext<'_>,
    reader: &mut dyn BufRead,
    cluster: &mut objects::Cluster<'_>,
) -> Result<(), ParseError> {
    let error = |line: u64, column: u64, message: String| {
        ParseError::new(
            context.path,
            FORMAT_ID,
            Some(Position::LineColumn { line, column }),
            message,
        )
    };
    let mut documents = documents::Documents::new(reader);
    loop {
        let document = documents
            .next_document()
            .map_err(|e| error(e.line, e.column, e.message))?;
        let Some(document) = document else {
            return Ok(());
        };
        let value = documents::parse(&document).map_err(|e| error(e.line, e.column, e.message))?;
        if value.is_null() {
            continue;
        }
        cluster.object(value).map_err(|message| {
            error(
                document.first_line,
                1,
                format!("in the document starting here: {message}"),
            )
        })?;
    }
}

fn read_json(
    context: &ParseContext<'_>,
    reader: &mut dyn BufRead,
    cluster: &mut objects::Cluster<'_>,
) -> Result<(), ParseError> {
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    deserializer
        .deserialize_any(JsonRoot { cluster })
        .and_then(|()| deserializer.end())
        .map_err(|error| ParseError::from_json(context.path, FORMAT_ID, &error))
}

/// Reads a JSON manifest: one object, a list whose `items` are read one
/// at a time, or an array of objects.
struct JsonRoot<'c, 's> {
    cluster: &'c mut objects::Cluster<'s>,
}

impl<'de> Visitor<'de> for JsonRoot<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a Kubernetes object or list")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut object = Map::new();
        let mut listed = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "items" {
                listed = true;
                map.next_value_seed(Items {
                    cluster: &mut *self.cluster,
                })?;
            } else if listed {
                map.next_value::<IgnoredAny>()?;
            } else {
                object.insert(key, map.next_value()?);
            }
        }
        if listed {
            return Ok(());
        }
        self.cluster.object(Value::Object(object)).map_err(de::Error::custom)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        Items { cluster: self.cluster }.visit_seq(seq)
    }
}

/// Reads the `items` of a list one at a time.
struct Items<'c, 's> {
    cluster: &'c mut objects::Cluster<'s>,
}

impl<'de> DeserializeSeed<'de> for Items<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Items<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a sequence of Kubernetes objects")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<Value>()? {
            self.cluster.object(item).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

/// Collects the (apiVersion, kind) of the top-level object of a JSON head, and of
/// the first items of a list.
fn json_head_objects(head: &[u8]) -> Vec<(String, String)> {
    #[derive(Default)]
    struct Found {
        pairs: Vec<(String, String)>,
    }

    struct ObjectVisitor<'f> {
        found: &'f mut Found,
        depth: usize,
    }

    impl<'de> DeserializeSeed<'de> for ObjectVisitor<'_> {
        type Value = ();

        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
            deserializer.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for ObjectVisitor<'_> {
        type Value = ();

        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            formatter.write_str("a JSON value")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let mut api_version = None;
            let mut kind = None;
            let mut pushed = false;
            while let Some(key) = map.next_key::<String>()? {
                match key.as_str() {
                    "apiVersion" => api_version = map.next_value::<Value>()?.as_str().map(str::to_string),
                    "kind" => kind = map.next_value::<Value>()?.as_str().map(str::to_string),
                    "items" if self.depth == 0 => map.next_value_seed(ObjectVisitor {
                        found: &mut *self.found,
                        depth: 1,
                    })?,
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                if let (false, Some(api_version), Some(kind)) = (pushed, &api_version, &kind) {
                    self.found.pairs.push((api_version.clone(), kind.clone()));
                    pushed = true;
                }
            }
            Ok(())
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            if self.depth > 1 {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                return Ok(());
            }
            while seq
                .next_element_seed(ObjectVisitor {
                    found: &mut *self.found,
                    depth: self.depth + 1,
                })?
                .is_some()
            {}
            Ok(())
        }

        fn visit_str<E: de::Error>(self, _value: &str) -> Result<(), E> {
            Ok(())
        }

        fn visit_bool<E: de::Error>(self, _value: bool) -> Result<(), E> {
            Ok(())
        }

        fn visit_i64<E: de::Error>(self, _value: i64) -> Result<(), E> {
            Ok(())
        }

        fn visit_u64<E: de::Error>(self, _value: u64) -> Result<(), E> {
            Ok(())
        }

        fn visit_f64<E: de::Error>(self, _value: f64) -> Result<(), E> {
            Ok(())
        }

        fn visit_unit<E: de::Error>(self) -> Result<(), E> {
            Ok(())
        }
    }

    let mut found = Found::default();
    let mut deserializer = serde_json::Deserializer::from_slice(head);
    // A cut head ends in an error; the objects read before it still count.
    let _ = ObjectVisitor {
        found: &mut found,
        depth: 0,
    }
    .deserialize(&mut deserializer);
    found.pairs
}

/// Collects the (apiVersion, kind) pairs of a YAML head: the `apiVersion:` and
/// `kind:` lines of each document, at the document's top level, or under
/// the `items:` of a list.
fn yaml_head_objects(head: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(head);
    let mut api_versions = BTreeSet::new();
    let mut kinds = BTreeSet::new();
    let listed = text.lines().any(|line| line.starts_with("items:"));
    for line in text.lines() {
        // Top-level keys start in column 0. In a list, an item starts with
        // `- ` and its keys are indented by at most four spaces.
        let indent = line.len() - line.trim_start().len();
        let key_line = if indent == 0 && !line.starts_with('-') {
            line
        } else if listed && let Some(rest) = line.trim_start().strip_prefix("- ") {
            rest
        } else if listed && indent <= 4 {
            line.trim_start()
        } else {
            continue;
        };
        let value = |prefix: &str| {
            key_line.strip_prefix(prefix).map(|rest| {
                let rest = rest.split(" #").next().unwrap_or(rest);
                rest.trim().trim_matches(['"', '\'']).to_string()
            })
        };
        if let Some(api_version) = value("apiVersion:") {
            api_versions.insert(api_version);
        } else if let Some(kind) = value("kind:") {
            kinds.insert(kind);
        }
    }
    let mut pairs = Vec::new();
    for api_version in &api_versions {
        for kind in &kinds {
            pairs.push((api_version.clone(), kind.clone()));
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_heads() {
        let pairs = json_head_objects(
            br#"{"apiVersion": "v1", "items": [{"apiVersion": "apps/v1", "kind": "Deployment"}], "kind": "List"}"#,
        );
        assert!(
            pairs.contains(&("apps/v1".to_string(), "Deployment".to_string())),
            "{pairs:?}"
        );
        let cut = json_head_objects(br#"{"kind": "Pod", "apiVersion": "v1", "spec": {"containers": ["#);
        assert_eq!(cut, [("v1".to_string(), "Pod".to_string())]);
        let nested = json_head_objects(br#"{"report": {"apiVersion": "v1", "kind": "Pod"}}"#);
        assert!(nested.is_empty(), "only the top level and list items count");
    }

    #[test]
    fn yaml_heads() {
        let pairs = yaml_head_objects(b"apiVersion: apps/v1\nkind: Deployment # web\nspec:\n  kind: nothing\n");
        assert!(
            pairs.contains(&("apps/v1".to_string(), "Deployment".to_string())),
            "{pairs:?}"
        );
        assert!(yaml_head_objects(b"name: x\nversion: 2\n").is_empty());
    }
}
