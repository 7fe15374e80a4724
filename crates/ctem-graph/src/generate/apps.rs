//! Repositories, the container images they build, and the Kubernetes
//! workloads, service accounts, secrets and load balancer services that
//! run them, keyed as the Kubernetes manifest parser and Trivy key them.

use ctem_model::{Asset, AssetKey, AssetKind, Finding, FindingKind, Relationship, RelationshipKind, Severity};

use super::cloud::Hosts;
use super::rng::{Rng, mix};
use super::vulns::{Ecosystems, Pool};
use super::{Builder, fixed, fixed_key, member_of_class};
use crate::ExploitSignals;

pub(super) const NAMESPACES: &[&str] = &["default", "payments", "web", "data", "platform", "monitoring"];
const TEAMS: &[&str] = &["payments", "identity", "platform", "data", "web"];
const SERVICES: &[&str] = &["api", "frontend", "worker", "gateway", "scheduler", "reports", "auth"];

/// The repositories, for the secrets that leak into them.
pub(super) struct Apps {
    repositories: Vec<(AssetKey, String)>,
}

impl Apps {
    /// A repository's key and URL.
    pub(super) fn repository(&self, rng: &mut Rng) -> (&AssetKey, &str) {
        let (key, url) = rng.pick(&self.repositories);
        (key, url)
    }
}

fn object(kind: AssetKind, namespace: &str, object_kind: &str, name: &str) -> Asset {
    let mut asset = Asset::new(kind, &format!("k8s:{namespace}/{object_kind}/{name}"), name);
    asset.attributes.insert("k8s_kind".into(), object_kind.into());
    asset.attributes.insert("namespace".into(), namespace.into());
    asset
}

/// Sends the repositories, images, service accounts, secrets, workloads and
/// services.
pub(super) fn applications(builder: &mut Builder, hosts: &Hosts, pool: &Pool) -> Apps {
    let sizes = builder.sizes;
    let mut rng = builder.rng("applications");

    let mut repositories = Vec::with_capacity(sizes.repositories);
    for index in 0..sizes.repositories {
        let team = TEAMS[index % TEAMS.len()];
        let path = format!("{team}/{}-{index}", SERVICES[index % SERVICES.len()]);
        let url = format!("https://git.acme.example/{path}");
        let asset = Asset::new(AssetKind::Repository, &url, path).with_identifier("repo_url", url.clone());
        repositories.push((builder.asset(asset), url));
    }

    let mut images = Vec::with_capacity(sizes.images);
    for index in 0..sizes.images {
        let repository = index % sizes.repositories;
        let path = repositories[repository]
            .0
            .identifier()
            .trim_start_matches("https://git.acme.example/");
        let reference = format!("registry.acme.example/{path}:1.{}.0", index / sizes.repositories);
        let digest = format!("sha256:{:016x}{:016x}{:016x}{:016x}", mix(index as u64), 1, 2, 3);
        let mut asset = Asset::new(AssetKind::ContainerImage, &reference, reference.clone());
        asset.add_identifier("image", reference.clone());
        asset.add_identifier("repo_tag", reference.clone());
        asset.add_identifier("image_digest", digest);
        let key = builder.asset(asset);
        builder.link(&repositories[repository].0, RelationshipKind::Builds, &key);
        let count = rng.between(15, 35);
        pool.contain(builder, &mut rng, &key, &reference, count, Ecosystems::Any);
        images.push(key);
    }

    let accounts: Vec<AssetKey> = (0..sizes.service_accounts)
        .map(|index| {
            let namespace = NAMESPACES[index % NAMESPACES.len()];
            builder.asset(object(
                AssetKind::Identity,
                namespace,
                "ServiceAccount",
                &format!("sa-{index}"),
            ))
        })
        .collect();
    let secrets: Vec<AssetKey> = (0..sizes.kubernetes_secrets)
        .map(|index| {
            let namespace = NAMESPACES[index % NAMESPACES.len()];
            let mut asset = object(AssetKind::Credential, namespace, "Secret", &format!("secret-{index}"));
            asset.attributes.insert("secret_type".into(), "Opaque".into());
            builder.asset(asset)
        })
        .collect();

    let mut workloads = Vec::with_capacity(sizes.workloads);
    for index in 0..sizes.workloads {
        let class = index % NAMESPACES.len();
        let namespace = NAMESPACES[class];
        let name = format!("{}-{index}", SERVICES[index % SERVICES.len()]);
        let account = &accounts[member_of_class(&mut rng, accounts.len(), NAMESPACES.len(), class)];
        let mut asset = object(AssetKind::KubernetesWorkload, namespace, "Deployment", &name);
        asset.attributes.insert("api_version".into(), "apps/v1".into());
        asset
            .attributes
            .insert("replicas".into(), rng.between(1, 6).to_string());
        asset.attributes.insert(
            "service_account".into(),
            account.identifier().rsplit('/').next().unwrap_or_default().into(),
        );
        asset.attributes.insert("containers".into(), "app".into());
        asset.tags.push(format!("label:app={name}"));
        let key = builder.asset(asset);

        let image = &images[rng.skewed(images.len())];
        builder.link(&key, RelationshipKind::RunsOn, image);
        if !hosts.nodes.is_empty() {
            let node = &hosts.hosts[*rng.pick(&hosts.nodes) as usize].key;
            builder.link(&key, RelationshipKind::RunsOn, node);
        }
        builder.link(&key, RelationshipKind::CanAssume, account);
        if rng.chance(0.3) {
            let secret = &secrets[member_of_class(&mut rng, secrets.len(), NAMESPACES.len(), class)];
            builder.link(&key, RelationshipKind::HasCredential, secret);
        }
        workload_findings(builder, &mut rng, &key, namespace, &name);
        workloads.push((key, namespace));
    }

    let internet = fixed_key(AssetKind::Other, fixed::INTERNET);
    for index in 0..sizes.kubernetes_services {
        let (workload, namespace) = &workloads[index * 10 % workloads.len()];
        let name = format!("public-{index}");
        let mut asset = object(AssetKind::Service, namespace, "Service", &name);
        asset.attributes.insert("service_type".into(), "LoadBalancer".into());
        asset.add_identifier("dns", format!("{name}.{namespace}.svc"));
        asset.internet_exposed = Some(true);
        let key = builder.asset(asset);
        builder.reach(&internet, &key, Some(443));
        builder.relationships.push(Relationship {
            from: key,
            to: workload.clone(),
            kind: RelationshipKind::RoutesTo,
            protocol: Some("tcp".into()),
            port: Some(8080),
        });
    }
    Apps { repositories }
}

/// The Kubernetes parser's findings on a few workloads: a privileged
/// container, or a container that runs as root.
fn workload_findings(builder: &mut Builder, rng: &mut Rng, workload: &AssetKey, namespace: &str, name: &str) {
    let (rule, severity, what) = match rng.below(100) {
        0..5 => (
            "k8s-privileged-container",
            Severity::High,
            "runs a privileged container",
        ),
        5..15 => ("k8s-run-as-root", Severity::Medium, "runs a container as root"),
        _ => return,
    };
    let mut finding = Finding::new(
        "kubernetes",
        rule,
        FindingKind::Misconfiguration,
        format!("Deployment {namespace}/{name} {what}"),
        severity,
        workload.clone(),
    );
    finding.location.parameter = Some("app".into());
    finding.target = Some("k8s-manifests".into());
    builder.finding(finding, ExploitSignals::default());
}
