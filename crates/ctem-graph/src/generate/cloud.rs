//! The AWS network: VPCs, subnets, security groups and their rules,
//! instances with their scanner views as hosts and services, and load
//! balancers, keyed as the `aws-cli-json`, Nmap and Nessus parsers key
//! them.

use ctem_model::{Asset, AssetKey, AssetKind, Finding, FindingKind, Relationship, RelationshipKind, Severity};

use super::iam::Identities;
use super::rng::{Rng, mix};
use super::vulns::{Ecosystems, Pool};
use super::{Builder, fixed, fixed_key};
use crate::ExploitSignals;

pub(super) const REGIONS: &[&str] = &["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1"];
const ENVIRONMENTS: &[&str] = &["prod", "prod", "staging", "dev"];
const TEAMS: &[&str] = &["payments", "identity", "platform", "data", "web", "mobile", "search"];

/// What a security group is for, which decides its ingress rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GroupKind {
    /// 80 and 443 from the internet.
    Web,
    /// 8080 from the web group of the VPC, 22 from the internal range.
    App,
    /// 5432 and 3306 from the app group.
    Database,
    /// Every protocol from the internal range; one in twenty also from
    /// the internet.
    Internal,
    /// 22 from the internet.
    SshOpen,
    /// 6379 from the app group.
    Cache,
    /// 3389 from the internet.
    AdminOpen,
}

const GROUP_KIND_COUNT: usize = 7;

/// The kinds of the groups of a VPC, in the order they are dealt: a
/// tenth of the groups open SSH to the internet and a tenth RDP.
pub(super) const GROUP_KINDS: &[GroupKind] = &[
    GroupKind::Web,
    GroupKind::App,
    GroupKind::Database,
    GroupKind::Internal,
    GroupKind::App,
    GroupKind::Internal,
    GroupKind::SshOpen,
    GroupKind::Cache,
    GroupKind::App,
    GroupKind::AdminOpen,
];

/// What an instance does, which decides its subnet, groups and ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Web,
    App,
    KubernetesNode,
    Worker,
    Bastion,
}

const ROLE_COUNT: usize = 5;

/// The roles of instances in the order they are dealt.
const ROLES: &[Role] = &[
    Role::Web,
    Role::Web,
    Role::App,
    Role::App,
    Role::App,
    Role::KubernetesNode,
    Role::KubernetesNode,
    Role::Worker,
    Role::Worker,
    Role::Bastion,
];

/// The positions in [`ROLES`] of instances that a host scanner also saw:
/// six in ten, the size that [`super::Sizes`] counts.
const SCANNED: &[usize] = &[0, 2, 4, 5, 6, 9];

/// The number of hosts among `instances` instances.
pub(super) fn scanned_count(instances: usize) -> usize {
    let rest = instances % ROLES.len();
    instances / ROLES.len() * SCANNED.len() + SCANNED.iter().filter(|slot| **slot < rest).count()
}

pub(super) struct Vpc {
    pub id: String,
    pub key: AssetKey,
    pub account: usize,
    pub region: &'static str,
}

pub(super) struct Group {
    pub key: AssetKey,
}

/// The network part of the environment, for the parts that place
/// resources in it.
pub(super) struct Network {
    pub accounts: Vec<String>,
    pub vpcs: Vec<Vpc>,
    pub subnets: Vec<AssetKey>,
    /// Subnet indexes by VPC: public, then private.
    pub public_subnets: Vec<Vec<u32>>,
    pub private_subnets: Vec<Vec<u32>>,
    pub groups: Vec<Group>,
    /// Group indexes by `vpc * GROUP_KIND_COUNT + kind`.
    groups_by_kind: Vec<Vec<u32>>,
}

impl Network {
    /// A group of `kind` in `vpc`. Every VPC has a group of every kind.
    pub(super) fn group(&self, rng: &mut Rng, vpc: usize, kind: GroupKind) -> &AssetKey {
        let index = *rng.pick(&self.groups_by_kind[vpc * GROUP_KIND_COUNT + kind as usize]);
        &self.groups[index as usize].key
    }

    /// A public subnet of `vpc` when `public`, else a private one.
    pub(super) fn subnet(&self, rng: &mut Rng, vpc: usize, public: bool) -> &AssetKey {
        let list = if public {
            &self.public_subnets
        } else {
            &self.private_subnets
        };
        &self.subnets[*rng.pick(&list[vpc]) as usize]
    }
}

/// An AWS-style resource id: the prefix and 17 hex digits, unique per
/// (salt, index).
pub(super) fn aws_id(prefix: &str, salt: u64, index: usize) -> String {
    format!(
        "{prefix}-0{:016x}",
        mix(salt.wrapping_mul(0x1_0000_0000) ^ index as u64)
    )
}

fn ec2_asset(resource_type: &str, id_kind: &str, id: &str, name: &str) -> Asset {
    let mut asset = Asset::new(AssetKind::CloudResource, &format!("aws:ec2:{resource_type}/{id}"), name);
    asset.add_identifier(id_kind, id);
    asset.attributes.insert("aws_type".into(), resource_type.into());
    asset
}

fn tag(asset: &mut Asset, key: &str, value: &str) {
    asset.tags.push(format!("tag:{key}={value}"));
}

/// Sends the accounts' VPCs, subnets and security groups with their rules.
pub(super) fn network(builder: &mut Builder) -> Network {
    let sizes = builder.sizes;
    let mut rng = builder.rng("network");
    let accounts: Vec<String> = (0..sizes.accounts)
        .map(|index| format!("{:012}", 100_000_000_000 + mix(index as u64) % 900_000_000_000))
        .collect();

    let mut vpcs = Vec::with_capacity(sizes.vpcs);
    for index in 0..sizes.vpcs {
        let account = index % sizes.accounts;
        let region = REGIONS[(index / sizes.accounts) % REGIONS.len()];
        let id = aws_id("vpc", 1, index);
        let environment = ENVIRONMENTS[index % ENVIRONMENTS.len()];
        let name = format!("{environment}-vpc-{index}");
        let mut asset = ec2_asset("vpc", "vpc_id", &id, &name);
        asset.add_identifier("account", accounts[account].clone());
        asset.add_identifier("cidr", format!("10.{}.0.0/16", index % 256));
        asset.attributes.insert("state".into(), "available".into());
        asset.attributes.insert("is_default".into(), "false".into());
        tag(&mut asset, "Name", &name);
        tag(&mut asset, "environment", environment);
        let key = builder.asset(asset);
        vpcs.push(Vpc {
            id,
            key,
            account,
            region,
        });
    }

    let mut subnets = Vec::with_capacity(sizes.subnets);
    let mut public_subnets = vec![Vec::new(); sizes.vpcs];
    let mut private_subnets = vec![Vec::new(); sizes.vpcs];
    for index in 0..sizes.subnets {
        let vpc_index = index % sizes.vpcs;
        let round = index / sizes.vpcs;
        // The first subnet of a VPC and every fourth one are public, so
        // each VPC has both kinds (there are at least two per VPC).
        let public = round.is_multiple_of(4);
        let vpc = &vpcs[vpc_index];
        let zone = format!("{}{}", vpc.region, ['a', 'b', 'c'][round % 3]);
        let id = aws_id("subnet", 2, index);
        let name = format!("{}-{}-{zone}", if public { "public" } else { "private" }, vpc_index);
        let mut asset = ec2_asset("subnet", "subnet_id", &id, &name);
        asset.add_identifier("account", accounts[vpc.account].clone());
        asset.add_identifier("vpc_id", vpc.id.clone());
        asset.add_identifier("cidr", format!("10.{}.{}.0/24", vpc_index % 256, round % 256));
        asset.attributes.insert("region".into(), vpc.region.into());
        asset.attributes.insert("availability_zone".into(), zone);
        asset.attributes.insert("state".into(), "available".into());
        asset
            .attributes
            .insert("map_public_ip_on_launch".into(), public.to_string());
        tag(&mut asset, "Name", &name);
        let key = builder.asset(asset);
        builder.link(&key, RelationshipKind::MemberOf, &vpc.key);
        if public {
            public_subnets[vpc_index].push(index as u32);
        } else {
            private_subnets[vpc_index].push(index as u32);
        }
        subnets.push(key);
    }
    // A VPC whose only subnet is public still needs a private one.
    for vpc_index in 0..sizes.vpcs {
        if private_subnets[vpc_index].is_empty() {
            private_subnets[vpc_index] = public_subnets[vpc_index].clone();
        }
    }

    let mut network = Network {
        accounts,
        vpcs,
        subnets,
        public_subnets,
        private_subnets,
        groups: Vec::with_capacity(sizes.security_groups),
        groups_by_kind: vec![Vec::new(); sizes.vpcs * GROUP_KIND_COUNT],
    };
    security_groups(builder, &mut network, &mut rng);
    network
}

fn security_groups(builder: &mut Builder, network: &mut Network, rng: &mut Rng) {
    let sizes = builder.sizes;
    let mut kinds = Vec::with_capacity(sizes.security_groups);
    for index in 0..sizes.security_groups {
        let vpc_index = index % sizes.vpcs;
        let kind = GROUP_KINDS[(index / sizes.vpcs) % GROUP_KINDS.len()];
        let vpc = &network.vpcs[vpc_index];
        let id = aws_id("sg", 3, index);
        let name = format!("{}-{index}", group_name(kind));
        let mut asset = ec2_asset("security-group", "security_group_id", &id, &name);
        asset.add_identifier("account", network.accounts[vpc.account].clone());
        asset.add_identifier("vpc_id", vpc.id.clone());
        asset.attributes.insert("group_name".into(), name.clone());
        asset
            .attributes
            .insert("description".into(), format!("{} traffic", group_name(kind)));
        let key = builder.asset(asset);
        builder.link(&key, RelationshipKind::MemberOf, &vpc.key);
        network.groups_by_kind[vpc_index * GROUP_KIND_COUNT + kind as usize].push(index as u32);
        network.groups.push(Group { key });
        kinds.push((kind, id, name));
    }

    // The rules name other groups of the VPC, so they follow once every
    // group exists.
    let internet = fixed_key(AssetKind::Other, fixed::INTERNET);
    let internal = fixed_key(AssetKind::Other, &format!("network:{}", fixed::INTERNAL_RANGE));
    for (index, (kind, id, name)) in kinds.into_iter().enumerate() {
        let vpc_index = index % sizes.vpcs;
        let key = network.groups[index].key.clone();
        let vpc = &network.vpcs[vpc_index];
        let target = format!(
            "aws:{}:{}:ec2-describe-security-groups",
            network.accounts[vpc.account], vpc.id
        );
        let open = |builder: &mut Builder, port: Option<u16>| {
            builder.reach(&internet, &key, port);
            if let Some(finding) = open_to_world(&key, &id, &name, port, &target) {
                builder.finding(finding, ExploitSignals::default());
            }
        };
        match kind {
            GroupKind::Web => {
                open(builder, Some(80));
                open(builder, Some(443));
            }
            GroupKind::App => {
                let web = network.group(rng, vpc_index, GroupKind::Web).clone();
                builder.reach(&web, &key, Some(8080));
                builder.reach(&internal, &key, Some(22));
            }
            GroupKind::Database | GroupKind::Cache => {
                let app = network.group(rng, vpc_index, GroupKind::App).clone();
                let ports: &[u16] = if kind == GroupKind::Cache {
                    &[6379]
                } else {
                    &[5432, 3306]
                };
                for port in ports {
                    builder.reach(&app, &key, Some(*port));
                }
            }
            GroupKind::Internal => {
                builder.reach(&internal, &key, None);
                if rng.chance(0.05) {
                    open(builder, None);
                }
            }
            GroupKind::SshOpen => {
                open(builder, Some(22));
                builder.reach(&internal, &key, Some(443));
            }
            GroupKind::AdminOpen => open(builder, Some(3389)),
        }
    }
}

fn group_name(kind: GroupKind) -> &'static str {
    match kind {
        GroupKind::Web => "web",
        GroupKind::App => "app",
        GroupKind::Database => "database",
        GroupKind::Internal => "internal",
        GroupKind::SshOpen => "ssh",
        GroupKind::Cache => "cache",
        GroupKind::AdminOpen => "remote-admin",
    }
}

/// The finding the `aws-cli-json` parser reports for a rule open to the
/// internet: on a sensitive port, or on every port (`None`). 80 and 443
/// give none.
fn open_to_world(group: &AssetKey, id: &str, name: &str, port: Option<u16>, target: &str) -> Option<Finding> {
    let label = format!("{name} ({id})");
    let (rule, title, rule_text) = match port {
        None => (
            "aws-security-group-open-all-ports",
            format!("Security group {label} allows every TCP port from the internet"),
            "all traffic".to_string(),
        ),
        Some(22) => (
            "aws-security-group-open-port",
            format!("Security group {label} allows SSH (22/tcp) from the internet"),
            "tcp 22".to_string(),
        ),
        Some(3389) => (
            "aws-security-group-open-port",
            format!("Security group {label} allows RDP (3389/tcp) from the internet"),
            "tcp 3389".to_string(),
        ),
        Some(_) => return None,
    };
    let mut finding = Finding::new(
        "aws",
        rule,
        FindingKind::Misconfiguration,
        title,
        Severity::High,
        group.clone(),
    );
    finding.location.port = port;
    finding.location.protocol = Some("tcp".to_string());
    finding.fix.description = Some("Restrict the rule's source to the address ranges that need access.".into());
    finding.attributes.insert("rule".into(), rule_text);
    finding.target = Some(target.to_string());
    Some(finding)
}

pub(super) struct Instance {
    pub key: AssetKey,
}

/// A scanner's view of an instance: `host:<private ip>`.
pub(super) struct Host {
    pub key: AssetKey,
    pub ip: String,
    pub role: Role,
}

/// The compute part of the environment.
pub(super) struct Hosts {
    pub instances: Vec<Instance>,
    /// Instance indexes by `vpc * ROLE_COUNT + role`.
    instances_by_role: Vec<Vec<u32>>,
    pub hosts: Vec<Host>,
    /// Host indexes of Kubernetes nodes.
    pub nodes: Vec<u32>,
}

impl Hosts {
    /// An instance of `role` in `vpc`, else of `role` anywhere, else any.
    pub(super) fn instance(&self, rng: &mut Rng, vpc: usize, role: Role) -> &AssetKey {
        let local = &self.instances_by_role[vpc * ROLE_COUNT + role as usize];
        if !local.is_empty() {
            return &self.instances[*rng.pick(local) as usize].key;
        }
        let anywhere: Vec<u32> = (0..self.instances_by_role.len() / ROLE_COUNT)
            .flat_map(|vpc| self.instances_by_role[vpc * ROLE_COUNT + role as usize].iter().copied())
            .collect();
        match anywhere.is_empty() {
            true => &self.instances[rng.below(self.instances.len())].key,
            false => &self.instances[*rng.pick(&anywhere) as usize].key,
        }
    }
}

/// The ports of the services of a host, by role; a host has one or two.
fn ports(role: Role) -> [(u16, &'static str, &'static str); 2] {
    match role {
        Role::Web => [(443, "https", "nginx"), (80, "http", "nginx")],
        Role::App => [(8080, "http-proxy", "Apache Tomcat"), (22, "ssh", "OpenSSH")],
        Role::KubernetesNode => [(10250, "kubelet", "Kubernetes kubelet"), (22, "ssh", "OpenSSH")],
        Role::Worker => [(22, "ssh", "OpenSSH"), (9100, "jetdirect", "Prometheus node exporter")],
        Role::Bastion => [(22, "ssh", "OpenSSH"), (443, "https", "OpenVPN")],
    }
}

/// Sends the instances, their hosts and services, and the findings of
/// host scanners.
pub(super) fn instances(builder: &mut Builder, network: &Network, identities: &Identities, pool: &Pool) -> Hosts {
    let sizes = builder.sizes;
    let mut rng = builder.rng("instances");
    let mut hosts = Hosts {
        instances: Vec::with_capacity(sizes.instances),
        instances_by_role: vec![Vec::new(); sizes.vpcs * ROLE_COUNT],
        hosts: Vec::with_capacity(sizes.hosts),
        nodes: Vec::new(),
    };
    let mut public_ips = vec![None; sizes.instances];

    for index in 0..sizes.instances {
        let role = ROLES[index % ROLES.len()];
        let vpc_index = rng.below(sizes.vpcs);
        let vpc = &network.vpcs[vpc_index];
        let account = &network.accounts[vpc.account];
        let public = matches!(role, Role::Web | Role::Bastion) && rng.chance(0.8);
        let id = aws_id("i", 4, index);
        let private_ip = format!("10.{}.{}.{}", (index >> 16) & 0xff, (index >> 8) & 0xff, index & 0xff);
        let environment = ENVIRONMENTS[vpc_index % ENVIRONMENTS.len()];
        let name = format!("{}-{environment}-{index}", role_name(role));

        let mut asset = ec2_asset("instance", "instance_id", &id, &name);
        asset.add_identifier("account", account.clone());
        asset.add_identifier("private_ip", private_ip.clone());
        asset.add_identifier("ip", private_ip.clone());
        if public {
            let public_ip = format!("3.{}.{}.{}", (index >> 16) & 0xff, (index >> 8) & 0xff, index & 0xff);
            asset.add_identifier("public_ip", public_ip.clone());
            asset.add_identifier("ip", public_ip.clone());
            public_ips[index] = Some(public_ip);
        }
        asset.add_identifier(
            "private_dns",
            format!("ip-{}.ec2.internal", private_ip.replace('.', "-")),
        );
        asset.add_identifier("vpc_id", vpc.id.clone());
        asset.attributes.insert("region".into(), vpc.region.into());
        asset.attributes.insert("state".into(), "running".into());
        let types = ["t3.medium", "m5.large", "c5.xlarge", "r5.large"];
        asset
            .attributes
            .insert("instance_type".into(), (*rng.pick(&types)).into());
        asset.attributes.insert("image_id".into(), aws_id("ami", 5, index % 97));
        tag(&mut asset, "Name", &name);
        let team = *rng.pick(TEAMS);
        tag(&mut asset, "team", team);
        tag(&mut asset, "environment", environment);
        let key = builder.asset(asset);

        let subnet = network.subnet(&mut rng, vpc_index, public).clone();
        builder.link(&key, RelationshipKind::MemberOf, &subnet);
        for group in groups_of(role, &mut rng) {
            let group = network.group(&mut rng, vpc_index, group).clone();
            builder.link(&key, RelationshipKind::MemberOf, &group);
        }
        if role == Role::KubernetesNode || rng.chance(0.7) {
            let profile = identities.instance_profile(&mut rng, vpc.account).clone();
            builder.link(&key, RelationshipKind::CanAssume, &profile);
        }
        hosts.instances_by_role[vpc_index * ROLE_COUNT + role as usize].push(index as u32);
        hosts.instances.push(Instance { key });

        if SCANNED.contains(&(index % ROLES.len())) {
            let host = host_asset(builder, &private_ip, public_ips[index].as_deref(), &name, role);
            if role == Role::KubernetesNode {
                hosts.nodes.push(hosts.hosts.len() as u32);
            }
            hosts.hosts.push(Host {
                key: host,
                ip: private_ip,
                role,
            });
        }
    }
    debug_assert_eq!(hosts.hosts.len(), sizes.hosts, "SCANNED and Sizes::hosts disagree");

    services(
        builder,
        &hosts,
        &public_ips_of_hosts(&hosts, &public_ips),
        pool,
        &mut rng,
    );
    for host in &hosts.hosts {
        let count = rng.between(4, 10);
        pool.contain(builder, &mut rng, &host.key, &host.ip, count, Ecosystems::Os);
    }
    hosts
}

/// The public address of each host, from the instances it views.
fn public_ips_of_hosts(hosts: &Hosts, public_ips: &[Option<String>]) -> Vec<Option<String>> {
    let mut by_host = Vec::with_capacity(hosts.hosts.len());
    for (index, address) in public_ips.iter().enumerate() {
        if SCANNED.contains(&(index % ROLES.len())) {
            by_host.push(address.clone());
        }
    }
    by_host
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Web => "web",
        Role::App => "app",
        Role::KubernetesNode => "k8s-node",
        Role::Worker => "worker",
        Role::Bastion => "bastion",
    }
}

fn groups_of(role: Role, rng: &mut Rng) -> Vec<GroupKind> {
    let mut groups = match role {
        Role::Web => vec![GroupKind::Web],
        Role::App | Role::KubernetesNode => vec![GroupKind::App, GroupKind::Internal],
        Role::Worker => vec![GroupKind::Internal],
        Role::Bastion => vec![GroupKind::SshOpen],
    };
    if rng.chance(0.05) {
        groups.push(if rng.chance(0.5) {
            GroupKind::SshOpen
        } else {
            GroupKind::AdminOpen
        });
    }
    groups
}

fn host_asset(builder: &mut Builder, private_ip: &str, public_ip: Option<&str>, name: &str, role: Role) -> AssetKey {
    let mut asset = Asset::new(AssetKind::Host, private_ip, name);
    asset.add_identifier("ip", private_ip);
    if let Some(public_ip) = public_ip {
        asset.add_identifier("ip", public_ip);
    }
    asset.add_identifier("hostname", format!("{name}.acme.internal"));
    let os = match role {
        Role::Bastion => "Ubuntu 20.04",
        Role::KubernetesNode => "Amazon Linux 2",
        _ => "Ubuntu 22.04",
    };
    asset.attributes.insert("os".into(), os.into());
    builder.asset(asset)
}

/// Sends the services (one per host, and a second for three hosts in
/// five), Nmap's open-port findings for hosts with a public address, and
/// Nessus findings for vulnerable services.
fn services(builder: &mut Builder, hosts: &Hosts, public_ips: &[Option<String>], pool: &Pool, rng: &mut Rng) {
    let count = hosts.hosts.len();
    for index in 0..builder.sizes.services {
        let host = &hosts.hosts[index % count];
        let (port, service, product) = ports(host.role)[index / count];
        let identifier = format!("{}:{port}/tcp", host.ip);
        let mut asset = Asset::new(AssetKind::Service, &identifier, identifier.clone());
        asset.attributes.insert("service".into(), service.into());
        asset.attributes.insert("product".into(), product.into());
        let version = format!("{}.{}", 1 + rng.below(9), rng.below(20));
        asset.attributes.insert("version".into(), version.clone());
        let key = builder.asset(asset);
        builder.relationships.push(Relationship {
            from: host.key.clone(),
            to: key,
            kind: RelationshipKind::Hosts,
            protocol: Some("tcp".into()),
            port: Some(port),
        });

        let target = format!("host:{}", host.ip);
        if public_ips[index % count].is_some() {
            let mut finding = Finding::new(
                "nmap",
                format!("open-port/{port}/tcp"),
                FindingKind::ExposedService,
                format!("Open port: {port}/tcp ({service})"),
                Severity::Info,
                host.key.clone(),
            );
            finding.location.port = Some(port);
            finding.location.protocol = Some("tcp".into());
            finding.attributes.insert("service".into(), service.into());
            finding.attributes.insert("product".into(), product.into());
            finding.target = Some(target.clone());
            builder.finding(finding, ExploitSignals::default());
        }
        if rng.chance(0.1) {
            let (finding, signals) = pool.service_finding(rng, &host.key, &target, port, product, &version);
            builder.finding(finding, signals);
        }
    }
}

/// Sends the application load balancers: internet-facing ones reached
/// from the internet, each routing to instances of its VPC.
pub(super) fn load_balancers(builder: &mut Builder, network: &Network, hosts: &Hosts) {
    let mut rng = builder.rng("load-balancers");
    let internet = fixed_key(AssetKind::Other, fixed::INTERNET);
    for index in 0..builder.sizes.load_balancers {
        let vpc_index = rng.below(network.vpcs.len());
        let vpc = &network.vpcs[vpc_index];
        let account = &network.accounts[vpc.account];
        let public = rng.chance(0.6);
        let name = format!("{}-lb-{index}", if public { "public" } else { "internal" });
        let arn = format!(
            "arn:aws:elasticloadbalancing:{}:{account}:loadbalancer/app/{name}/{:016x}",
            vpc.region,
            mix(index as u64)
        );
        let mut asset = Asset::new(AssetKind::CloudResource, &arn, name.clone());
        asset.add_identifier("arn", arn.clone());
        asset.add_identifier("load_balancer_name", name.clone());
        asset.add_identifier("dns", format!("{name}.{}.elb.amazonaws.com", vpc.region));
        asset.add_identifier("account", account.clone());
        asset.add_identifier("vpc_id", vpc.id.clone());
        asset.attributes.insert("aws_type".into(), "load-balancer".into());
        asset
            .attributes
            .insert("load_balancer_type".into(), "application".into());
        asset.attributes.insert("region".into(), vpc.region.into());
        let scheme = if public { "internet-facing" } else { "internal" };
        asset.attributes.insert("scheme".into(), scheme.into());
        asset.internet_exposed = Some(public);
        let key = builder.asset(asset);

        if public {
            builder.link(&internet, RelationshipKind::NetworkReach, &key);
        }
        let group = network.group(&mut rng, vpc_index, GroupKind::Web).clone();
        builder.link(&key, RelationshipKind::MemberOf, &group);
        let subnet = network.subnet(&mut rng, vpc_index, public).clone();
        builder.link(&key, RelationshipKind::MemberOf, &subnet);
        let role = if public { Role::Web } else { Role::App };
        for _ in 0..rng.between(2, 5) {
            let target = hosts.instance(&mut rng, vpc_index, role).clone();
            builder.relationships.push(Relationship {
                from: key.clone(),
                to: target,
                kind: RelationshipKind::RoutesTo,
                protocol: Some("http".into()),
                port: Some(if public { 80 } else { 8080 }),
            });
        }
    }
}
