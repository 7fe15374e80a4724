//! IAM principals and their permissions, the data stores they reach, and
//! the access keys that repositories and hosts leak, keyed as the
//! `aws-cli-json` parser keys them.

use ctem_model::{
    Asset, AssetKey, AssetKind, Criticality, Cwe, Finding, FindingKind, MaskedSecret, RelationshipKind, Severity,
};

use super::apps::Apps;
use super::cloud::{GroupKind, Hosts, Network, aws_id};
use super::rng::{Rng, mix};
use super::{Builder, fixed, fixed_key, member_of_class};
use crate::ExploitSignals;

const ROLE_PURPOSES: &[&str] = &["deploy", "ci", "data-reader", "support", "lambda-exec", "backup", "etl"];
const BUCKET_PURPOSES: &[&str] = &[
    "logs",
    "assets",
    "backups",
    "payroll",
    "customer-data",
    "ml-training",
    "invoices",
];
/// Bucket purposes that make a bucket a crown jewel one time in five.
const SENSITIVE_PURPOSES: &[&str] = &["payroll", "customer-data", "invoices"];
const APPLICATIONS: &[&str] = &[
    "orders",
    "billing",
    "accounts",
    "inventory",
    "search",
    "analytics",
    "auth",
];

/// The principals, by account (item `i` of each list is in account
/// `i % accounts`).
pub(super) struct Identities {
    accounts: usize,
    pub profiles: Vec<AssetKey>,
    pub roles: Vec<AssetKey>,
    pub users: Vec<AssetKey>,
    pub groups: Vec<AssetKey>,
}

impl Identities {
    pub(super) fn instance_profile(&self, rng: &mut Rng, account: usize) -> &AssetKey {
        &self.profiles[member_of_class(rng, self.profiles.len(), self.accounts, account)]
    }

    fn role(&self, rng: &mut Rng, account: usize) -> &AssetKey {
        &self.roles[member_of_class(rng, self.roles.len(), self.accounts, account)]
    }
}

fn principal(arn: &str, name: &str, aws_type: &str, account: &str) -> Asset {
    let mut asset = Asset::new(AssetKind::Identity, arn, name);
    asset.add_identifier("arn", arn);
    asset.add_identifier("account", account);
    asset.attributes.insert("aws_type".into(), aws_type.into());
    asset.attributes.insert("path".into(), "/".into());
    asset
}

/// Sends the account roots, managed policies, roles with their trust
/// edges, instance profiles, groups and users.
pub(super) fn identities(builder: &mut Builder, network: &Network) -> Identities {
    let sizes = builder.sizes;
    let accounts = &network.accounts;
    let count = accounts.len();
    let mut rng = builder.rng("iam");

    let roots: Vec<AssetKey> = accounts
        .iter()
        .map(|account| {
            builder.asset(principal(
                &format!("arn:aws:iam::{account}:root"),
                account,
                "iam-root",
                account,
            ))
        })
        .collect();

    let mut policies = Vec::with_capacity(sizes.managed_policies);
    for index in 0..sizes.managed_policies {
        let account = &accounts[index % count];
        let name = format!("{}-access-{index}", APPLICATIONS[index % APPLICATIONS.len()]);
        let arn = format!("arn:aws:iam::{account}:policy/{name}");
        let mut asset = Asset::new(AssetKind::CloudResource, &arn, name);
        asset.add_identifier("arn", arn.clone());
        asset.add_identifier("account", account.clone());
        asset.attributes.insert("aws_type".into(), "iam-policy".into());
        builder.asset(asset);
        policies.push(arn);
    }

    let mut roles = Vec::with_capacity(sizes.roles);
    let mut role_names = Vec::with_capacity(sizes.roles);
    for index in 0..sizes.roles {
        let account = &accounts[index % count];
        let name = if index < sizes.instance_profiles {
            format!("{}-instance-role-{index}", APPLICATIONS[index % APPLICATIONS.len()])
        } else {
            format!("{}-{index}", ROLE_PURPOSES[index % ROLE_PURPOSES.len()])
        };
        let arn = format!("arn:aws:iam::{account}:role/{name}");
        let mut asset = principal(&arn, &name, "iam-role", account);
        asset.add_identifier("role_name", name.clone());
        asset.add_identifier("role_id", aws_id("AROA", 6, index).to_ascii_uppercase());
        let policy = &policies[member_of_class(&mut rng, policies.len(), count, index % count)];
        asset.attributes.insert("attached_policies".into(), policy.clone());
        roles.push(builder.asset(asset));
        role_names.push(name);
    }

    let ec2 = fixed_key(AssetKind::Identity, fixed::EC2_SERVICE);
    let anyone = fixed_key(AssetKind::Identity, fixed::ANY_PRINCIPAL);
    for index in 0..sizes.roles {
        let account = index % count;
        let role = roles[index].clone();
        if index < sizes.instance_profiles {
            builder.link(&ec2, RelationshipKind::CanAssume, &role);
            continue;
        }
        // One role in five hundred of the others trusts anyone, the first
        // of them always, so every estate has one.
        if (index - sizes.instance_profiles).is_multiple_of(500) {
            builder.link(&anyone, RelationshipKind::CanAssume, &role);
            builder.finding(
                anyone_finding(&role, &role_names[index], &accounts[account]),
                ExploitSignals::default(),
            );
        } else if rng.chance(0.4) {
            let from = roles[member_of_class(&mut rng, sizes.roles, count, account)].clone();
            if from != role {
                builder.link(&from, RelationshipKind::CanAssume, &role);
            }
        } else if rng.chance(0.15) {
            let other = (account + 1) % count;
            builder.link(&roots[other], RelationshipKind::CanAssume, &role);
        }
    }

    let mut profiles = Vec::with_capacity(sizes.instance_profiles);
    for (index, role) in roles.iter().enumerate().take(sizes.instance_profiles) {
        let account = &accounts[index % count];
        let name = format!("{}-profile", role_names[index]);
        let arn = format!("arn:aws:iam::{account}:instance-profile/{name}");
        let mut asset = principal(&arn, &name, "iam-instance-profile", account);
        asset.add_identifier("instance_profile_id", aws_id("AIPA", 7, index).to_ascii_uppercase());
        let key = builder.asset(asset);
        builder.link(&key, RelationshipKind::CanAssume, role);
        profiles.push(key);
    }

    let mut groups = Vec::with_capacity(sizes.groups);
    for index in 0..sizes.groups {
        let account = &accounts[index % count];
        let name = format!("{}-engineers-{index}", APPLICATIONS[index % APPLICATIONS.len()]);
        let arn = format!("arn:aws:iam::{account}:group/{name}");
        let mut asset = principal(&arn, &name, "iam-group", account);
        asset.add_identifier("group_name", name);
        groups.push(builder.asset(asset));
    }

    let mut identities = Identities {
        accounts: count,
        profiles,
        roles,
        users: Vec::with_capacity(sizes.users),
        groups,
    };
    for index in 0..sizes.users {
        let account = index % count;
        let name = format!("user{index}");
        let arn = format!("arn:aws:iam::{}:user/{name}", accounts[account]);
        let mut asset = principal(&arn, &name, "iam-user", &accounts[account]);
        asset.add_identifier("user_name", name);
        let group = identities.groups[member_of_class(&mut rng, sizes.groups, count, account)].clone();
        asset.attributes.insert(
            "groups".into(),
            group.identifier().rsplit('/').next().unwrap_or_default().into(),
        );
        let key = builder.asset(asset);
        builder.link(&key, RelationshipKind::MemberOf, &group);
        if rng.chance(0.3) {
            for _ in 0..rng.between(1, 2) {
                let role = identities.role(&mut rng, account).clone();
                builder.link(&key, RelationshipKind::CanAssume, &role);
            }
        }
        identities.users.push(key);
    }
    identities
}

fn anyone_finding(role: &AssetKey, name: &str, account: &str) -> Finding {
    let mut finding = Finding::new(
        "aws",
        "aws-iam-role-trusts-any-principal",
        FindingKind::Misconfiguration,
        format!("IAM role {name} can be assumed by any AWS principal"),
        Severity::Critical,
        role.clone(),
    );
    finding.fix.description = Some("Name the principals that need the role in the trust policy.".into());
    finding.target = Some(format!("aws:{account}:iam-get-account-authorization-details"));
    finding
}

/// Sends the buckets and databases (some of them crown jewels), and the
/// read and write permissions of the principals.
pub(super) fn data_stores(builder: &mut Builder, network: &Network, identities: &Identities) {
    let sizes = builder.sizes;
    let accounts = &network.accounts;
    let count = accounts.len();
    let mut rng = builder.rng("data");

    let mut buckets = Vec::with_capacity(sizes.buckets);
    for index in 0..sizes.buckets {
        // The first bucket holds customer data, so every estate has a
        // crown-jewel bucket.
        let purpose = if index == 0 {
            "customer-data"
        } else {
            *rng.pick(BUCKET_PURPOSES)
        };
        let name = format!("acme-{purpose}-{index}");
        let arn = format!("arn:aws:s3:::{name}");
        let mut asset = Asset::new(AssetKind::DataStore, &arn, name.clone());
        asset.add_identifier("arn", arn);
        asset.add_identifier("bucket", name.clone());
        asset.attributes.insert("aws_type".into(), "bucket".into());
        asset
            .attributes
            .insert("region".into(), network.vpcs[index % network.vpcs.len()].region.into());
        if SENSITIVE_PURPOSES.contains(&purpose) && (index == 0 || rng.chance(0.2)) {
            crown_jewel(&mut asset, &name);
        }
        buckets.push(builder.asset(asset));
    }

    let mut databases = Vec::with_capacity(sizes.databases);
    for index in 0..sizes.databases {
        let account = index % count;
        let vpc_index = member_of_class(&mut rng, network.vpcs.len(), count, account);
        let vpc = &network.vpcs[vpc_index];
        let application = APPLICATIONS[index % APPLICATIONS.len()];
        let id = format!("{application}-db-{index}");
        let arn = format!("arn:aws:rds:{}:{}:db:{id}", vpc.region, accounts[account]);
        let (engine, port) = *rng.pick(&[("postgres", "5432"), ("mysql", "3306"), ("aurora-postgresql", "5432")]);
        let public = rng.chance(0.02);
        let mut asset = Asset::new(AssetKind::DataStore, &arn, id.clone());
        asset.add_identifier("arn", arn.clone());
        asset.add_identifier("db_instance_id", id.clone());
        asset.add_identifier("account", accounts[account].clone());
        asset.add_identifier("dns", format!("{id}.cluster.{}.rds.amazonaws.com", vpc.region));
        asset.add_identifier("vpc_id", vpc.id.clone());
        asset.attributes.insert("aws_type".into(), "db-instance".into());
        asset.attributes.insert("region".into(), vpc.region.into());
        asset.attributes.insert("engine".into(), engine.into());
        asset.attributes.insert("port".into(), port.into());
        asset
            .attributes
            .insert("publicly_accessible".into(), public.to_string());
        asset.internet_exposed = Some(public);
        if index == 0 || rng.chance(0.08) {
            crown_jewel(&mut asset, &id);
        }
        let key = builder.asset(asset);
        let group = network.group(&mut rng, vpc_index, GroupKind::Database).clone();
        builder.link(&key, RelationshipKind::MemberOf, &group);
        let subnet = network.subnet(&mut rng, vpc_index, false).clone();
        builder.link(&key, RelationshipKind::MemberOf, &subnet);
        if public {
            let mut finding = Finding::new(
                "aws",
                "aws-rds-publicly-accessible",
                FindingKind::Misconfiguration,
                format!("RDS database {id} is publicly accessible"),
                Severity::Medium,
                key.clone(),
            );
            finding.target = Some(format!(
                "aws:{}:{}:rds-describe-db-instances",
                accounts[account], vpc.region
            ));
            builder.finding(finding, ExploitSignals::default());
        }
        databases.push(key);
    }

    let any_resource = fixed_key(AssetKind::Other, fixed::ANY_RESOURCE);
    let any_bucket = fixed_key(AssetKind::Other, fixed::ANY_BUCKET);
    let grant = |builder: &mut Builder, rng: &mut Rng, principal: &AssetKey, account: usize| {
        let (list, stores) = if rng.chance(0.6) {
            (&buckets, sizes.buckets)
        } else {
            (&databases, sizes.databases)
        };
        let store = &list[member_of_class(rng, stores, count, account)];
        let kinds = rng.weighted(&[(0u8, 0.5), (1, 0.2), (2, 0.3)]);
        if kinds != 1 {
            builder.link(principal, RelationshipKind::CanRead, store);
        }
        if kinds != 0 {
            builder.link(principal, RelationshipKind::CanWrite, store);
        }
    };
    for (index, role) in identities.roles.iter().enumerate() {
        let account = index % count;
        if rng.chance(0.03) {
            builder.link(role, RelationshipKind::CanRead, &any_resource);
            builder.link(role, RelationshipKind::CanWrite, &any_resource);
            continue;
        }
        if rng.chance(0.08) {
            builder.link(role, RelationshipKind::CanRead, &any_bucket);
        }
        for _ in 0..rng.between(1, 3) {
            grant(builder, &mut rng, role, account);
        }
    }
    for (index, group) in identities.groups.iter().enumerate() {
        for _ in 0..rng.between(1, 2) {
            grant(builder, &mut rng, group, index % count);
        }
    }
    for (index, user) in identities.users.iter().enumerate() {
        if rng.chance(0.1) {
            grant(builder, &mut rng, user, index % count);
        }
    }
}

/// Marks an asset as a crown jewel, as a `[[crown_jewels]]` entry of the
/// configuration does.
fn crown_jewel(asset: &mut Asset, name: &str) {
    asset.criticality = Some(Criticality::CrownJewel);
    asset.attributes.insert("crown_jewel".into(), name.into());
}

/// An access key id: `AKIA` and 16 characters of the base-32 alphabet
/// AWS uses.
fn access_key_id(index: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = mix(index as u64 ^ 0xacce55);
    let mut id = String::from("AKIA");
    for _ in 0..16 {
        id.push(ALPHABET[(bits & 31) as usize] as char);
        bits = bits.rotate_right(5) ^ (bits >> 7);
    }
    id
}

/// Sends the users' access keys and the leaks of some of them: a Gitleaks
/// finding in a repository, or a TruffleHog finding on a host, each with
/// a `HasCredential` edge from the place of the leak.
pub(super) fn secrets(builder: &mut Builder, identities: &Identities, hosts: &Hosts, apps: &Apps) {
    let mut rng = builder.rng("secrets");
    for index in 0..builder.sizes.access_keys {
        let user = &identities.users[index % identities.users.len()];
        let id = access_key_id(index);
        let mut asset = Asset::new(AssetKind::Credential, &format!("aws:access-key/{id}"), id.clone());
        asset.add_identifier("access_key_id", id.clone());
        asset.attributes.insert("aws_type".into(), "iam-access-key".into());
        asset.attributes.insert("status".into(), "Active".into());
        // Not a real key: the secret part is derived from the index. The
        // graph joins a leak to its credential by the secret's SHA-256.
        let clear = format!("{:016x}{:016x}{:08x}", mix(index as u64), mix(!(index as u64)), index);
        asset.add_identifier("secret_sha256", MaskedSecret::new(&clear).sha256);
        let key = builder.asset(asset);
        builder.link(user, RelationshipKind::HasCredential, &key);

        // The first key leaks into a repository, so every estate has a leak.
        if index == 0 || rng.chance(0.2) {
            let (repository, url) = apps.repository(&mut rng);
            let repository = repository.clone();
            builder.link(&repository, RelationshipKind::HasCredential, &key);
            let mut finding = Finding::new(
                "gitleaks",
                "aws-access-token",
                FindingKind::Secret,
                "Identified a pattern that may indicate AWS credentials",
                Severity::High,
                repository,
            );
            let commit = format!("{:040x}", u128::from(mix(index as u64)) << 32);
            let line = 1 + rng.below(200) as u32;
            finding.location.path = Some("deploy/settings.env".into());
            finding.location.start_line = Some(line);
            finding.tool_fingerprint = Some(format!("{commit}:deploy/settings.env:aws-access-token:{line}"));
            finding.secret = Some(MaskedSecret::new(&clear));
            finding.cwes.push(Cwe(798));
            finding.attributes.insert("commit".into(), commit);
            finding.target = Some(url.to_string());
            builder.finding(finding, ExploitSignals::default());
        } else if rng.chance(0.1) {
            let host = &hosts.hosts[rng.below(hosts.hosts.len())];
            builder.link(&host.key, RelationshipKind::HasCredential, &key);
            let mut finding = Finding::new(
                "trufflehog",
                "AWS",
                FindingKind::Secret,
                "AWS secret found in /home/ubuntu/.aws/credentials",
                Severity::High,
                host.key.clone(),
            );
            finding.location.path = Some("/home/ubuntu/.aws/credentials".into());
            finding.location.start_line = Some(2);
            finding.secret = Some(MaskedSecret::new(&clear));
            finding.cwes.push(Cwe(798));
            finding.target = Some(format!("host:{}", host.ip));
            builder.finding(finding, ExploitSignals::default());
        }
    }
}
