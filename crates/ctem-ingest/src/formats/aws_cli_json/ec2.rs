//! EC2 exports: `describe-instances`, `describe-security-groups`,
//! `describe-subnets`, `describe-vpcs` and `describe-network-interfaces`.

use ctem_model::{Asset, AssetKey, Relationship, RelationshipKind};
use serde::Deserialize;

use super::keys::{self, Tag};
use super::{Export, rules};

/// One reservation of `describe-instances`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(super) struct Reservation {
    owner_id: Option<String>,
    reservation_id: Option<String>,
    instances: Vec<Instance>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Instance {
    instance_id: Option<String>,
    instance_type: Option<String>,
    image_id: Option<String>,
    key_name: Option<String>,
    launch_time: Option<String>,
    platform: Option<String>,
    platform_details: Option<String>,
    architecture: Option<String>,
    private_ip_address: Option<String>,
    public_ip_address: Option<String>,
    private_dns_name: Option<String>,
    public_dns_name: Option<String>,
    subnet_id: Option<String>,
    vpc_id: Option<String>,
    state: Option<Named>,
    placement: Option<Placement>,
    security_groups: Vec<GroupRef>,
    network_interfaces: Vec<InstanceInterface>,
    iam_instance_profile: Option<ProfileRef>,
    tags: Vec<Tag>,
    metadata_options: Option<MetadataOptions>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Named {
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Placement {
    availability_zone: Option<String>,
}

/// A security group as instances and interfaces name it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct GroupRef {
    group_id: Option<String>,
    group_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct ProfileRef {
    arn: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct MetadataOptions {
    http_tokens: Option<String>,
    http_endpoint: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct InstanceInterface {
    network_interface_id: Option<String>,
    mac_address: Option<String>,
    private_ip_addresses: Vec<PrivateAddress>,
    ipv6_addresses: Vec<Ipv6Address>,
    groups: Vec<GroupRef>,
    association: Option<Association>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct PrivateAddress {
    private_ip_address: Option<String>,
    private_dns_name: Option<String>,
    association: Option<Association>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Ipv6Address {
    ipv6_address: Option<String>,
}

/// A public address associated with a private one.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Association {
    public_ip: Option<String>,
    public_dns_name: Option<String>,
}

/// One security group of `describe-security-groups`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(super) struct SecurityGroup {
    group_id: Option<String>,
    group_name: Option<String>,
    description: Option<String>,
    vpc_id: Option<String>,
    owner_id: Option<String>,
    security_group_arn: Option<String>,
    ip_permissions: Vec<Permission>,
    tags: Vec<Tag>,
}

/// One ingress rule: a protocol, a port range and its sources.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(super) struct Permission {
    pub ip_protocol: Option<String>,
    pub from_port: Option<i64>,
    pub to_port: Option<i64>,
    ip_ranges: Vec<Ipv4Range>,
    ipv6_ranges: Vec<Ipv6Range>,
    user_id_group_pairs: Vec<GroupPair>,
    prefix_list_ids: Vec<PrefixList>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Ipv4Range {
    cidr_ip: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Ipv6Range {
    cidr_ipv6: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct GroupPair {
    group_id: Option<String>,
    group_name: Option<String>,
    user_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct PrefixList {
    prefix_list_id: Option<String>,
}

/// One subnet of `describe-subnets`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(super) struct Subnet {
    subnet_id: Option<String>,
    subnet_arn: Option<String>,
    vpc_id: Option<String>,
    owner_id: Option<String>,
    cidr_block: Option<String>,
    availability_zone: Option<String>,
    state: Option<String>,
    map_public_ip_on_launch: Option<bool>,
    default_for_az: Option<bool>,
    ipv6_cidr_block_association_set: Vec<Ipv6Block>,
    tags: Vec<Tag>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Ipv6Block {
    ipv6_cidr_block: Option<String>,
}

/// One VPC of `describe-vpcs`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(super) struct Vpc {
    vpc_id: Option<String>,
    owner_id: Option<String>,
    cidr_block: Option<String>,
    cidr_block_association_set: Vec<Ipv4Block>,
    ipv6_cidr_block_association_set: Vec<Ipv6Block>,
    state: Option<String>,
    is_default: Option<bool>,
    tags: Vec<Tag>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Ipv4Block {
    cidr_block: Option<String>,
}

/// One interface of `describe-network-interfaces`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(super) struct NetworkInterface {
    network_interface_id: Option<String>,
    owner_id: Option<String>,
    availability_zone: Option<String>,
    description: Option<String>,
    interface_type: Option<String>,
    mac_address: Option<String>,
    private_dns_name: Option<String>,
    private_ip_address: Option<String>,
    private_ip_addresses: Vec<PrivateAddress>,
    ipv6_addresses: Vec<Ipv6Address>,
    association: Option<Association>,
    attachment: Option<Attachment>,
    groups: Vec<GroupRef>,
    requester_managed: Option<bool>,
    status: Option<String>,
    subnet_id: Option<String>,
    vpc_id: Option<String>,
    tag_set: Vec<Tag>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Attachment {
    instance_id: Option<String>,
    instance_owner_id: Option<String>,
}

/// Text that is present and not empty.
fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A boolean as the attribute text `true` or `false`.
fn flag(value: Option<bool>) -> Option<String> {
    value.map(|v| v.to_string())
}

/// Links an asset to the security groups it is in.
fn join_groups(export: &mut Export<'_>, member: &AssetKey, groups: &[GroupRef]) {
    for group in groups {
        let Some(id) = text(&group.group_id) else {
            continue;
        };
        let mut stub = keys::ec2_stub("security-group", "security_group_id", id);
        if let Some(name) = text(&group.group_name) {
            stub.name = name.to_string();
            stub.attributes.insert("group_name".into(), name.into());
        }
        export
            .records
            .link(member, RelationshipKind::MemberOf, &stub.key.clone());
        export.records.stub(stub);
    }
}

/// Links an asset to the subnet it is in.
pub(super) fn join_subnet(export: &mut Export<'_>, member: &AssetKey, subnet_id: Option<&str>) {
    if let Some(id) = subnet_id {
        let stub = keys::ec2_stub("subnet", "subnet_id", id);
        export
            .records
            .link(member, RelationshipKind::MemberOf, &stub.key.clone());
        export.records.stub(stub);
    }
}

/// Links a security group to the groups and interfaces that name it by id.
pub(super) fn join_group_ids(export: &mut Export<'_>, member: &AssetKey, group_ids: &[String]) {
    let groups: Vec<GroupRef> = group_ids
        .iter()
        .map(|id| GroupRef {
            group_id: Some(id.clone()),
            group_name: None,
        })
        .collect();
    join_groups(export, member, &groups);
}

/// Adds the private and public addresses of an interface to an asset.
fn add_addresses(
    asset: &mut Asset,
    addresses: &[PrivateAddress],
    ipv6: &[Ipv6Address],
    association: &Option<Association>,
) {
    for address in addresses {
        keys::identify(asset, "private_ip", text(&address.private_ip_address));
        keys::identify(asset, "ip", text(&address.private_ip_address));
        keys::identify(asset, "private_dns", text(&address.private_dns_name));
        add_association(asset, &address.association);
    }
    for address in ipv6 {
        keys::identify(asset, "ipv6", text(&address.ipv6_address));
        keys::identify(asset, "ip", text(&address.ipv6_address));
    }
    add_association(asset, association);
}

fn add_association(asset: &mut Asset, association: &Option<Association>) {
    if let Some(association) = association {
        keys::identify(asset, "public_ip", text(&association.public_ip));
        keys::identify(asset, "ip", text(&association.public_ip));
        keys::identify(asset, "public_dns", text(&association.public_dns_name));
    }
}

/// Sends the instances of one reservation.
pub(super) fn reservation(export: &mut Export<'_>, reservation: Reservation) {
    let account = text(&reservation.owner_id).map(str::to_string);
    for instance in reservation.instances {
        self::instance(export, instance, account.as_deref(), text(&reservation.reservation_id));
    }
}

fn instance(export: &mut Export<'_>, instance: Instance, account: Option<&str>, reservation_id: Option<&str>) {
    let Some(id) = text(&instance.instance_id) else {
        return;
    };
    let zone = instance.placement.as_ref().and_then(|p| text(&p.availability_zone));
    let region = zone.and_then(keys::region_of_zone);
    export.records.target(&keys::regional_target(
        account,
        region.as_deref(),
        "ec2-describe-instances",
    ));

    let key = keys::ec2_key("instance", id);
    let mut asset = keys::asset_for(&key, id);
    asset.add_identifier("instance_id", id);
    keys::identify(&mut asset, "account", account);
    keys::identify(&mut asset, "private_ip", text(&instance.private_ip_address));
    keys::identify(&mut asset, "ip", text(&instance.private_ip_address));
    keys::identify(&mut asset, "public_ip", text(&instance.public_ip_address));
    keys::identify(&mut asset, "ip", text(&instance.public_ip_address));
    keys::identify(&mut asset, "private_dns", text(&instance.private_dns_name));
    keys::identify(&mut asset, "public_dns", text(&instance.public_dns_name));
    keys::identify(&mut asset, "vpc_id", text(&instance.vpc_id));
    keys::identify(&mut asset, "subnet_id", text(&instance.subnet_id));
    for interface in &instance.network_interfaces {
        keys::identify(&mut asset, "eni_id", text(&interface.network_interface_id));
        keys::identify(&mut asset, "mac", text(&interface.mac_address));
        add_addresses(
            &mut asset,
            &interface.private_ip_addresses,
            &interface.ipv6_addresses,
            &interface.association,
        );
    }

    asset.attributes.insert("aws_type".into(), "instance".into());
    keys::set(&mut asset, "region", region.as_deref());
    keys::set(&mut asset, "availability_zone", zone);
    keys::set(&mut asset, "state", instance.state.as_ref().and_then(|s| text(&s.name)));
    keys::set(&mut asset, "instance_type", text(&instance.instance_type));
    keys::set(&mut asset, "image_id", text(&instance.image_id));
    keys::set(&mut asset, "key_name", text(&instance.key_name));
    keys::set(&mut asset, "launch_time", text(&instance.launch_time));
    keys::set(&mut asset, "platform", text(&instance.platform));
    keys::set(&mut asset, "platform_details", text(&instance.platform_details));
    keys::set(&mut asset, "architecture", text(&instance.architecture));
    keys::set(&mut asset, "reservation_id", reservation_id);
    if let Some(options) = &instance.metadata_options {
        keys::set(&mut asset, "metadata_http_tokens", text(&options.http_tokens));
        keys::set(&mut asset, "metadata_http_endpoint", text(&options.http_endpoint));
    }
    if let Some(name) = keys::add_tags(&mut asset, &instance.tags) {
        asset.name = name;
    }
    // The exposure of a public address depends on the rules of the
    // instance's groups, which this export does not hold: the graph joins
    // the `public_ip` with the internet edges of describe-security-groups.
    export.records.asset(asset);

    join_subnet(export, &key, text(&instance.subnet_id));
    join_groups(export, &key, &instance.security_groups);
    for interface in &instance.network_interfaces {
        join_groups(export, &key, &interface.groups);
    }
    if let Some(profile) = instance.iam_instance_profile.as_ref().and_then(|p| text(&p.arn)) {
        let stub = keys::arn_stub(profile, "iam-instance-profile");
        export
            .records
            .link(&key, RelationshipKind::CanAssume, &stub.key.clone());
        export.records.stub(stub);
    }
}

/// Sends a security group, an edge from each source of each ingress rule,
/// and findings for sensitive ports open to the internet.
pub(super) fn security_group(export: &mut Export<'_>, group: SecurityGroup) {
    let Some(id) = text(&group.group_id) else {
        return;
    };
    let account = text(&group.owner_id).map(str::to_string).or_else(|| {
        text(&group.security_group_arn).and_then(|arn| keys::Arn::parse(arn)?.account().map(str::to_string))
    });
    let place = text(&group.vpc_id).unwrap_or("ec2-classic");
    let target = keys::regional_target(account.as_deref(), Some(place), "ec2-describe-security-groups");
    export.records.target(&target);

    let key = keys::ec2_key("security-group", id);
    let name = text(&group.group_name).unwrap_or(id);
    let mut asset = keys::asset_for(&key, name);
    asset.add_identifier("security_group_id", id);
    keys::identify(&mut asset, "arn", text(&group.security_group_arn));
    keys::identify(&mut asset, "account", account.as_deref());
    keys::identify(&mut asset, "vpc_id", text(&group.vpc_id));
    asset.attributes.insert("aws_type".into(), "security-group".into());
    keys::set(&mut asset, "group_name", text(&group.group_name));
    keys::set(&mut asset, "description", text(&group.description));
    keys::add_tags(&mut asset, &group.tags);
    export.records.asset(asset);

    if let Some(vpc) = text(&group.vpc_id) {
        let stub = keys::ec2_stub("vpc", "vpc_id", vpc);
        export.records.link(&key, RelationshipKind::MemberOf, &stub.key.clone());
        export.records.stub(stub);
    }

    for permission in &group.ip_permissions {
        let ports = rules::PortRange::of(
            permission.ip_protocol.as_deref(),
            permission.from_port,
            permission.to_port,
        );
        let mut sources = Vec::new();
        for range in &permission.ip_ranges {
            sources.extend(text(&range.cidr_ip).map(keys::network));
        }
        for range in &permission.ipv6_ranges {
            sources.extend(text(&range.cidr_ipv6).map(keys::network));
        }
        for pair in &permission.user_id_group_pairs {
            if let Some(source) = text(&pair.group_id) {
                let mut stub = keys::ec2_stub("security-group", "security_group_id", source);
                keys::identify(&mut stub, "account", text(&pair.user_id));
                if let Some(name) = text(&pair.group_name) {
                    stub.name = name.to_string();
                }
                sources.push(stub);
            }
        }
        for list in &permission.prefix_list_ids {
            sources.extend(text(&list.prefix_list_id).map(|id| keys::ec2_stub("prefix-list", "prefix_list_id", id)));
        }

        for source in sources {
            for (protocol, port) in ports.edges() {
                export.records.edge(Relationship {
                    from: source.key.clone(),
                    to: key.clone(),
                    kind: RelationshipKind::NetworkReach,
                    protocol: Some(protocol),
                    port,
                });
            }
            let world = source.key.identifier() == keys::INTERNET;
            if world {
                for finding in rules::open_to_world(&key, id, name, &ports, &target) {
                    export.records.finding(finding);
                }
            }
            export.records.stub(source);
        }
    }
}

/// Sends a subnet, in its VPC.
pub(super) fn subnet(export: &mut Export<'_>, subnet: Subnet) {
    let Some(id) = text(&subnet.subnet_id) else {
        return;
    };
    let arn = text(&subnet.subnet_arn).and_then(keys::Arn::parse);
    let account = text(&subnet.owner_id).or_else(|| arn.as_ref().and_then(keys::Arn::account));
    let zone = text(&subnet.availability_zone);
    let region = zone
        .and_then(keys::region_of_zone)
        .or_else(|| arn.as_ref().and_then(keys::Arn::region).map(str::to_string));
    export.records.target(&keys::regional_target(
        account,
        region.as_deref(),
        "ec2-describe-subnets",
    ));

    let key = keys::ec2_key("subnet", id);
    let mut asset = keys::asset_for(&key, id);
    asset.add_identifier("subnet_id", id);
    keys::identify(&mut asset, "arn", text(&subnet.subnet_arn));
    keys::identify(&mut asset, "account", account);
    keys::identify(&mut asset, "vpc_id", text(&subnet.vpc_id));
    keys::identify(&mut asset, "cidr", text(&subnet.cidr_block));
    for block in &subnet.ipv6_cidr_block_association_set {
        keys::identify(&mut asset, "cidr", text(&block.ipv6_cidr_block));
    }
    asset.attributes.insert("aws_type".into(), "subnet".into());
    keys::set(&mut asset, "region", region.as_deref());
    keys::set(&mut asset, "availability_zone", zone);
    keys::set(&mut asset, "state", text(&subnet.state));
    keys::set(
        &mut asset,
        "map_public_ip_on_launch",
        flag(subnet.map_public_ip_on_launch).as_deref(),
    );
    keys::set(&mut asset, "default_for_az", flag(subnet.default_for_az).as_deref());
    if let Some(name) = keys::add_tags(&mut asset, &subnet.tags) {
        asset.name = name;
    }
    export.records.asset(asset);

    if let Some(vpc) = text(&subnet.vpc_id) {
        let stub = keys::ec2_stub("vpc", "vpc_id", vpc);
        export.records.link(&key, RelationshipKind::MemberOf, &stub.key.clone());
        export.records.stub(stub);
    }
}

/// Sends a VPC.
pub(super) fn vpc(export: &mut Export<'_>, vpc: Vpc) {
    let Some(id) = text(&vpc.vpc_id) else {
        return;
    };
    // A VPC export shows no region; the VPC id stands in for it.
    export.records.target(&keys::regional_target(
        text(&vpc.owner_id),
        Some(id),
        "ec2-describe-vpcs",
    ));

    let key = keys::ec2_key("vpc", id);
    let mut asset = keys::asset_for(&key, id);
    asset.add_identifier("vpc_id", id);
    keys::identify(&mut asset, "account", text(&vpc.owner_id));
    keys::identify(&mut asset, "cidr", text(&vpc.cidr_block));
    for block in &vpc.cidr_block_association_set {
        keys::identify(&mut asset, "cidr", text(&block.cidr_block));
    }
    for block in &vpc.ipv6_cidr_block_association_set {
        keys::identify(&mut asset, "cidr", text(&block.ipv6_cidr_block));
    }
    asset.attributes.insert("aws_type".into(), "vpc".into());
    keys::set(&mut asset, "state", text(&vpc.state));
    keys::set(&mut asset, "is_default", flag(vpc.is_default).as_deref());
    if let Some(name) = keys::add_tags(&mut asset, &vpc.tags) {
        asset.name = name;
    }
    export.records.asset(asset);
}

/// Sends a network interface, in its subnet and groups, routing to the
/// instance it is attached to.
pub(super) fn network_interface(export: &mut Export<'_>, interface: NetworkInterface) {
    let Some(id) = text(&interface.network_interface_id) else {
        return;
    };
    let zone = text(&interface.availability_zone);
    let region = zone.and_then(keys::region_of_zone);
    export.records.target(&keys::regional_target(
        text(&interface.owner_id),
        region.as_deref(),
        "ec2-describe-network-interfaces",
    ));

    let key = keys::ec2_key("network-interface", id);
    let mut asset = keys::asset_for(&key, id);
    asset.add_identifier("eni_id", id);
    keys::identify(&mut asset, "account", text(&interface.owner_id));
    keys::identify(&mut asset, "private_ip", text(&interface.private_ip_address));
    keys::identify(&mut asset, "ip", text(&interface.private_ip_address));
    keys::identify(&mut asset, "private_dns", text(&interface.private_dns_name));
    keys::identify(&mut asset, "mac", text(&interface.mac_address));
    keys::identify(&mut asset, "vpc_id", text(&interface.vpc_id));
    keys::identify(&mut asset, "subnet_id", text(&interface.subnet_id));
    add_addresses(
        &mut asset,
        &interface.private_ip_addresses,
        &interface.ipv6_addresses,
        &interface.association,
    );
    asset.attributes.insert("aws_type".into(), "network-interface".into());
    keys::set(&mut asset, "region", region.as_deref());
    keys::set(&mut asset, "availability_zone", zone);
    keys::set(&mut asset, "description", text(&interface.description));
    keys::set(&mut asset, "interface_type", text(&interface.interface_type));
    keys::set(&mut asset, "status", text(&interface.status));
    keys::set(
        &mut asset,
        "requester_managed",
        flag(interface.requester_managed).as_deref(),
    );
    if let Some(name) = keys::add_tags(&mut asset, &interface.tag_set) {
        asset.name = name;
    }
    export.records.asset(asset);

    join_subnet(export, &key, text(&interface.subnet_id));
    join_groups(export, &key, &interface.groups);
    if let Some(attachment) = &interface.attachment
        && let Some(instance) = text(&attachment.instance_id)
    {
        let mut stub = keys::ec2_stub("instance", "instance_id", instance);
        keys::identify(&mut stub, "account", text(&attachment.instance_owner_id));
        export.records.link(&key, RelationshipKind::RoutesTo, &stub.key.clone());
        export.records.stub(stub);
    }
}
