//! Seeded enterprise environments for tests and benchmarks.
//!
//! [`generate`] builds an estate of cloud accounts, VPCs, subnets, security
//! groups (some open to `0.0.0.0/0`), instances (some with public
//! addresses) and their scanner views as hosts and services, instance
//! profiles, IAM roles, users and groups with their permissions, buckets,
//! databases (a few of them crown jewels), load balancers and their
//! targets, repositories that build container images, Kubernetes
//! workloads on nodes, software components in images and on hosts,
//! vulnerabilities with CVE ids, CVSS v3.1 vectors and exploitation
//! signals, and secrets in repositories and on hosts.
//!
//! The records follow the conventions of ctem's parsers, so the rules see
//! what a real run gives them:
//!
//! - AWS resources as the `aws-cli-json` parser keys them
//!   (`cloud_resource:aws:ec2:instance/i-...`, `data_store:arn:aws:s3:::...`,
//!   `identity:arn:aws:iam::<account>:role/...`), with `aws_type`
//!   attributes, `MemberOf` edges to subnets, groups and VPCs, `CanAssume`
//!   edges from instances to instance profiles and from profiles, trusted
//!   principals and users to roles, `CanRead` and `CanWrite` edges from
//!   principals to data stores and to `other:aws-pattern:...` wildcards, and
//!   `NetworkReach` edges from rule sources (`other:network:internet`, a
//!   CIDR, another group) to security groups;
//! - hosts and services as Nmap and Nessus key them (`host:<ip>`,
//!   `service:<ip>:<port>/tcp`, `Hosts` edges);
//! - images, components and workloads as Trivy and the Kubernetes parser
//!   key them (`container_image:<reference>`, `component:<purl>`,
//!   `kubernetes_workload:k8s:<namespace>/Deployment/<name>`, `Contains`
//!   and `RunsOn` edges), repositories as source scanners key them.
//!
//! Some conventions have no parser behind them yet, and follow what the
//! rules define for them: a workload `RunsOn` the host of its Kubernetes
//! node; an IAM user `HasCredential` its access key, a `credential` asset
//! whose `secret_sha256` identifier matches the `Secret` findings that leak
//! it; and a repository or host that leaks a key `HasCredential` it, as a
//! Kubernetes workload has the secrets it mounts.
//!
//! The same seed and options give the same environment, record for record.
//! The asset count is exactly [`GenerateOptions::assets`]; relationships
//! and findings grow linearly with it.
//!
//! ```
//! use ctem_graph::generate::{GenerateOptions, generate};
//!
//! let environment = generate(&GenerateOptions::new(7, 2_000));
//! assert_eq!(environment.assets.len(), 2_000);
//! let findings = environment.graph_findings();
//! let input = environment.input(&findings);
//! assert_eq!(input.findings.len(), environment.findings.len());
//! ```

mod apps;
mod cloud;
mod iam;
mod native;
mod rng;
mod vulns;

#[cfg(test)]
mod tests;

use ctem_model::{Asset, AssetKey, AssetKind, Finding, Relationship, RelationshipKind};

use crate::{Controls, ExploitSignals, GraphFinding, GraphInput};

pub use native::{NativeDocument, NativeScope, NativeTool};

/// The smallest environment [`generate`] builds: below it the fixed part
/// (the internet, principals, one account) is too large a share.
pub const MIN_ASSETS: usize = 1_000;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    /// The seed: the same seed and options give the same environment.
    pub seed: u64,
    /// The number of assets, at least [`MIN_ASSETS`].
    pub assets: usize,
    /// The compensating controls to report in [`Environment::controls`].
    pub controls: Controls,
}

impl GenerateOptions {
    /// Options for `assets` assets with no compensating controls.
    pub fn new(seed: u64, assets: usize) -> GenerateOptions {
        GenerateOptions {
            seed,
            assets,
            controls: Controls::default(),
        }
    }
}

/// A generated estate: the records that ctem's parsers would produce,
/// with the fingerprint and exploitation signals of each finding.
#[derive(Debug, Clone)]
pub struct Environment {
    pub assets: Vec<Asset>,
    pub relationships: Vec<Relationship>,
    pub findings: Vec<Finding>,
    /// The fingerprint of each finding, in the order of `findings`.
    pub fingerprints: Vec<String>,
    /// The exploitation signals of each finding, in the order of
    /// `findings`. Findings without a CVE have the default (no signal).
    pub signals: Vec<ExploitSignals>,
    pub controls: Controls,
}

impl Environment {
    /// The findings as the rules read them, borrowing this environment.
    pub fn graph_findings(&self) -> Vec<GraphFinding<'_>> {
        self.findings
            .iter()
            .zip(&self.fingerprints)
            .zip(&self.signals)
            .map(|((finding, fingerprint), signals)| GraphFinding {
                finding,
                fingerprint,
                signals: *signals,
            })
            .collect()
    }

    /// The input of the rules, from this environment and the findings that
    /// [`Environment::graph_findings`] returned for it.
    pub fn input<'a>(&'a self, findings: &'a [GraphFinding<'a>]) -> GraphInput<'a> {
        GraphInput {
            assets: &self.assets,
            relationships: &self.relationships,
            findings,
            controls: &self.controls,
        }
    }

    /// The environment as a ctem-native JSON report (`ctem_format` 1) that
    /// `ctem assess` reads. Serialize it with `serde_json::to_writer` to
    /// stream it without building the text in memory.
    pub fn native_document(&self) -> NativeDocument<'_> {
        NativeDocument::new(self)
    }

    /// The assets that are crown jewels.
    pub fn crown_jewels(&self) -> impl Iterator<Item = &Asset> {
        self.assets
            .iter()
            .filter(|asset| asset.criticality == Some(ctem_model::Criticality::CrownJewel))
    }
}

/// Generates an environment. `options.assets` below [`MIN_ASSETS`] is
/// raised to it.
pub fn generate(options: &GenerateOptions) -> Environment {
    let sizes = Sizes::of(options.assets.max(MIN_ASSETS));
    let mut builder = Builder::new(options.seed, sizes);

    builder.fixed_assets();
    let network = cloud::network(&mut builder);
    let identities = iam::identities(&mut builder, &network);
    iam::data_stores(&mut builder, &network, &identities);
    let pool = vulns::Pool::new(&mut builder);
    let hosts = cloud::instances(&mut builder, &network, &identities, &pool);
    cloud::load_balancers(&mut builder, &network, &hosts);
    let apps = apps::applications(&mut builder, &hosts, &pool);
    iam::secrets(&mut builder, &identities, &hosts, &apps);
    pool.components(&mut builder);

    debug_assert_eq!(builder.assets.len(), sizes.total, "sizes and generated assets disagree");
    builder.finish(options.controls)
}

/// How many assets of each category an environment has. Every count is
/// fixed by the total, so the total is exact; components take what the
/// other categories leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sizes {
    pub total: usize,
    pub accounts: usize,
    pub vpcs: usize,
    pub subnets: usize,
    pub security_groups: usize,
    pub instances: usize,
    /// Instances that a host scanner also saw, as `host:<ip>` assets.
    pub hosts: usize,
    pub services: usize,
    pub load_balancers: usize,
    pub roles: usize,
    pub instance_profiles: usize,
    pub users: usize,
    pub groups: usize,
    pub managed_policies: usize,
    pub access_keys: usize,
    pub buckets: usize,
    pub databases: usize,
    pub repositories: usize,
    pub images: usize,
    pub workloads: usize,
    pub service_accounts: usize,
    pub kubernetes_secrets: usize,
    pub kubernetes_services: usize,
    pub components: usize,
}

/// Assets that every environment has, whatever its size: the internet,
/// the internal network range, the EC2 service principal, the principal
/// `*`, and the two wildcard resources of broad policies.
const FIXED_ASSETS: usize = 6;

impl Sizes {
    fn of(total: usize) -> Sizes {
        let share = |fraction: f64, floor: usize| ((total as f64 * fraction) as usize).max(floor);
        let accounts = share(1.0 / 40_000.0, 1);
        let vpcs = share(0.0008, accounts);
        let instances = share(0.10, 20);
        let hosts = cloud::scanned_count(instances);
        let roles = share(0.015, 4 * accounts);
        let workloads = share(0.04, 5);
        let mut sizes = Sizes {
            total,
            accounts,
            vpcs,
            subnets: share(0.004, 2 * vpcs),
            security_groups: share(0.015, cloud::GROUP_KINDS.len() * vpcs),
            instances,
            hosts,
            services: hosts * 8 / 5,
            load_balancers: share(0.003, 1),
            roles,
            instance_profiles: (roles / 2).max(accounts),
            users: share(0.006, 2 * accounts),
            groups: share(0.0005, accounts),
            managed_policies: share(0.001, accounts),
            access_keys: share(0.004, 1),
            buckets: share(0.008, 3 * accounts),
            databases: share(0.004, 2 * accounts),
            repositories: share(0.008, 3),
            images: share(0.025, 5),
            workloads,
            service_accounts: share(0.008, apps::NAMESPACES.len()),
            kubernetes_secrets: share(0.01, apps::NAMESPACES.len()),
            kubernetes_services: (workloads / 10).max(1),
            components: 0,
        };
        let others = FIXED_ASSETS + sizes.accounts + sizes.without_components();
        sizes.components = total
            .checked_sub(others)
            .filter(|components| *components >= vulns::PACKAGES.len())
            .unwrap_or_else(|| panic!("{total} assets leave too few components: raise MIN_ASSETS"));
        sizes
    }

    fn without_components(&self) -> usize {
        self.vpcs
            + self.subnets
            + self.security_groups
            + self.instances
            + self.hosts
            + self.services
            + self.load_balancers
            + self.roles
            + self.instance_profiles
            + self.users
            + self.groups
            + self.managed_policies
            + self.access_keys
            + self.buckets
            + self.databases
            + self.repositories
            + self.images
            + self.workloads
            + self.service_accounts
            + self.kubernetes_secrets
            + self.kubernetes_services
    }
}

/// The keys of the fixed assets.
mod fixed {
    /// The internet as the parsers name it (`other:network:internet`).
    pub const INTERNET: &str = "network:internet";
    /// The private range that internal security group rules allow.
    pub const INTERNAL_RANGE: &str = "10.0.0.0/8";
    pub const EC2_SERVICE: &str = "aws:service:ec2.amazonaws.com";
    pub const ANY_PRINCIPAL: &str = "aws:principal:*";
    pub const ANY_RESOURCE: &str = "aws-pattern:*";
    pub const ANY_BUCKET: &str = "aws-pattern:arn:aws:s3:*";
}

/// Collects the records while the parts of the environment are generated.
struct Builder {
    pub seed: u64,
    pub sizes: Sizes,
    pub assets: Vec<Asset>,
    pub relationships: Vec<Relationship>,
    pub findings: Vec<Finding>,
    pub signals: Vec<ExploitSignals>,
}

impl Builder {
    fn new(seed: u64, sizes: Sizes) -> Builder {
        Builder {
            seed,
            sizes,
            assets: Vec::with_capacity(sizes.total),
            relationships: Vec::with_capacity(sizes.total * 3),
            findings: Vec::with_capacity(sizes.total / 2),
            signals: Vec::with_capacity(sizes.total / 2),
        }
    }

    fn rng(&self, stream: &str) -> rng::Rng {
        rng::Rng::new(self.seed, stream)
    }

    /// Adds an asset and returns its key.
    fn asset(&mut self, asset: Asset) -> AssetKey {
        let key = asset.key.clone();
        self.assets.push(asset);
        key
    }

    fn link(&mut self, from: &AssetKey, kind: RelationshipKind, to: &AssetKey) {
        self.relationships
            .push(Relationship::new(from.clone(), kind, to.clone()));
    }

    /// Adds a `NetworkReach` edge on a TCP port, or on every protocol
    /// (`all`, no port) when `port` is `None`.
    fn reach(&mut self, from: &AssetKey, to: &AssetKey, port: Option<u16>) {
        self.relationships.push(Relationship {
            from: from.clone(),
            to: to.clone(),
            kind: RelationshipKind::NetworkReach,
            protocol: Some(if port.is_some() { "tcp" } else { "all" }.to_string()),
            port,
        });
    }

    fn finding(&mut self, finding: Finding, signals: ExploitSignals) {
        self.findings.push(finding);
        self.signals.push(signals);
    }

    fn fixed_assets(&mut self) {
        let mut internet = Asset::new(AssetKind::Other, fixed::INTERNET, "internet");
        internet.internet_exposed = Some(true);
        self.asset(internet);
        let range = fixed::INTERNAL_RANGE;
        self.asset(Asset::new(AssetKind::Other, &format!("network:{range}"), range).with_identifier("cidr", range));
        let ec2 = "ec2.amazonaws.com";
        self.asset(Asset::new(AssetKind::Identity, fixed::EC2_SERVICE, ec2).with_identifier("service_principal", ec2));
        self.asset(
            Asset::new(AssetKind::Identity, fixed::ANY_PRINCIPAL, "any AWS principal")
                .with_identifier("principal", "*"),
        );
        for pattern in ["*", "arn:aws:s3:*"] {
            let identifier = format!("aws-pattern:{pattern}");
            let name = format!("AWS resources matching {pattern}");
            self.asset(Asset::new(AssetKind::Other, &identifier, name).with_identifier("arn_pattern", pattern));
        }
    }

    fn finish(self, controls: Controls) -> Environment {
        let fingerprints = self
            .findings
            .iter()
            .map(|finding| finding.fingerprint().as_str().to_string())
            .collect();
        Environment {
            assets: self.assets,
            relationships: self.relationships,
            findings: self.findings,
            fingerprints,
            signals: self.signals,
            controls,
        }
    }
}

/// The key of a fixed asset.
fn fixed_key(kind: AssetKind, identifier: &str) -> AssetKey {
    AssetKey::new(kind, identifier)
}

/// An index of class `class` among `total` items dealt round-robin into
/// `classes` classes (item `i` is in class `i % classes`), drawn
/// uniformly. Every class must have an item (`total >= classes`).
fn member_of_class(rng: &mut rng::Rng, total: usize, classes: usize, class: usize) -> usize {
    debug_assert!(class < classes && classes <= total);
    let count = (total - class).div_ceil(classes);
    class + classes * rng.below(count)
}
