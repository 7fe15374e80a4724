//! Load balancer exports: `elb describe-load-balancers` (classic) and
//! `elbv2 describe-load-balancers` (application, network and gateway).

use ctem_model::{AssetKey, Relationship, RelationshipKind};
use serde::Deserialize;

use super::keys;
use super::{Export, ec2};

/// One classic load balancer.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(super) struct ClassicLoadBalancer {
    load_balancer_name: Option<String>,
    #[serde(rename = "DNSName")]
    dns_name: Option<String>,
    canonical_hosted_zone_name: Option<String>,
    scheme: Option<String>,
    #[serde(rename = "VPCId")]
    vpc_id: Option<String>,
    subnets: Vec<String>,
    security_groups: Vec<String>,
    availability_zones: Vec<String>,
    listener_descriptions: Vec<ListenerDescription>,
    instances: Vec<InstanceRef>,
    created_time: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct ListenerDescription {
    listener: Option<Listener>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Listener {
    protocol: Option<String>,
    load_balancer_port: Option<i64>,
    instance_protocol: Option<String>,
    instance_port: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct InstanceRef {
    instance_id: Option<String>,
}

/// One load balancer of elbv2.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub(super) struct LoadBalancer {
    load_balancer_arn: Option<String>,
    load_balancer_name: Option<String>,
    #[serde(rename = "DNSName")]
    dns_name: Option<String>,
    scheme: Option<String>,
    #[serde(rename = "Type")]
    kind: Option<String>,
    vpc_id: Option<String>,
    state: Option<State>,
    ip_address_type: Option<String>,
    security_groups: Vec<String>,
    availability_zones: Vec<Zone>,
    created_time: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct State {
    code: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Zone {
    zone_name: Option<String>,
    subnet_id: Option<String>,
}

fn text(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn port(value: Option<i64>) -> Option<u16> {
    value.and_then(|v| u16::try_from(v).ok())
}

/// `Some(true)` for `internet-facing`, `Some(false)` for `internal`.
fn exposure(scheme: Option<&str>) -> Option<bool> {
    match scheme {
        Some("internet-facing") => Some(true),
        Some("internal") => Some(false),
        _ => None,
    }
}

/// Sends a classic load balancer: reachable from the internet on its
/// listener ports when internet-facing, routing to its instances.
pub(super) fn classic(export: &mut Export<'_>, balancer: ClassicLoadBalancer) {
    let Some(name) = text(&balancer.load_balancer_name) else {
        return;
    };
    let region = balancer
        .availability_zones
        .iter()
        .find_map(|zone| keys::region_of_zone(zone));
    let place = region.as_deref().or(text(&balancer.vpc_id));
    export
        .records
        .target(&keys::regional_target(None, place, "elb-describe-load-balancers"));

    // A classic load balancer has no ARN in this export, and its name is
    // unique only within an account and region.
    let key = keys::scoped_key(None, region.as_deref(), "elb", name);
    let mut asset = keys::asset_for(&key, name);
    asset.add_identifier("load_balancer_name", name);
    keys::identify(&mut asset, "dns", text(&balancer.dns_name));
    keys::identify(&mut asset, "dns", text(&balancer.canonical_hosted_zone_name));
    keys::identify(&mut asset, "vpc_id", text(&balancer.vpc_id));
    asset.attributes.insert("aws_type".into(), "load-balancer".into());
    asset.attributes.insert("load_balancer_type".into(), "classic".into());
    keys::set(&mut asset, "region", region.as_deref());
    keys::set(&mut asset, "scheme", text(&balancer.scheme));
    keys::set(&mut asset, "created_time", text(&balancer.created_time));
    asset.internet_exposed = exposure(text(&balancer.scheme));
    let public = asset.internet_exposed == Some(true);
    export.records.asset(asset);

    for description in &balancer.listener_descriptions {
        let Some(listener) = &description.listener else {
            continue;
        };
        if public {
            let internet = keys::network("0.0.0.0/0");
            export.records.edge(Relationship {
                from: internet.key.clone(),
                to: key.clone(),
                kind: RelationshipKind::NetworkReach,
                protocol: text(&listener.protocol).map(str::to_ascii_lowercase),
                port: port(listener.load_balancer_port),
            });
            export.records.stub(internet);
        }
        for instance in &balancer.instances {
            route(
                export,
                &key,
                text(&instance.instance_id),
                text(&listener.instance_protocol).map(str::to_ascii_lowercase),
                port(listener.instance_port),
            );
        }
    }
    if balancer.listener_descriptions.is_empty() {
        for instance in &balancer.instances {
            route(export, &key, text(&instance.instance_id), None, None);
        }
    }

    ec2::join_group_ids(export, &key, &balancer.security_groups);
    for subnet in &balancer.subnets {
        ec2::join_subnet(export, &key, Some(subnet.as_str()).filter(|s| !s.is_empty()));
    }
}

fn route(
    export: &mut Export<'_>,
    balancer: &AssetKey,
    instance: Option<&str>,
    protocol: Option<String>,
    port: Option<u16>,
) {
    let Some(instance) = instance else {
        return;
    };
    let stub = keys::ec2_stub("instance", "instance_id", instance);
    export.records.edge(Relationship {
        from: balancer.clone(),
        to: stub.key.clone(),
        kind: RelationshipKind::RoutesTo,
        protocol,
        port,
    });
    export.records.stub(stub);
}

/// Sends an application, network or gateway load balancer. This export
/// has no listeners, so the edge from the internet has no port.
pub(super) fn v2(export: &mut Export<'_>, balancer: LoadBalancer) {
    let Some(arn) = text(&balancer.load_balancer_arn) else {
        return;
    };
    let parts = keys::Arn::parse(arn);
    let account = parts.as_ref().and_then(keys::Arn::account);
    let region = parts.as_ref().and_then(keys::Arn::region);
    export
        .records
        .target(&keys::regional_target(account, region, "elbv2-describe-load-balancers"));

    let key = keys::arn_key(arn);
    let name = text(&balancer.load_balancer_name).unwrap_or(arn);
    let mut asset = keys::asset_for(&key, name);
    asset.add_identifier("arn", arn);
    keys::identify(&mut asset, "load_balancer_name", text(&balancer.load_balancer_name));
    keys::identify(&mut asset, "dns", text(&balancer.dns_name));
    keys::identify(&mut asset, "account", account);
    keys::identify(&mut asset, "vpc_id", text(&balancer.vpc_id));
    asset.attributes.insert("aws_type".into(), "load-balancer".into());
    keys::set(&mut asset, "load_balancer_type", text(&balancer.kind));
    keys::set(&mut asset, "region", region);
    keys::set(&mut asset, "scheme", text(&balancer.scheme));
    keys::set(&mut asset, "state", balancer.state.as_ref().and_then(|s| text(&s.code)));
    keys::set(&mut asset, "ip_address_type", text(&balancer.ip_address_type));
    keys::set(&mut asset, "created_time", text(&balancer.created_time));
    let zones: Vec<&str> = balancer
        .availability_zones
        .iter()
        .filter_map(|z| text(&z.zone_name))
        .collect();
    if !zones.is_empty() {
        asset.attributes.insert("availability_zones".into(), zones.join(","));
    }
    asset.internet_exposed = exposure(text(&balancer.scheme));
    let public = asset.internet_exposed == Some(true);
    export.records.asset(asset);

    if public {
        let internet = keys::network("0.0.0.0/0");
        export
            .records
            .link(&internet.key.clone(), RelationshipKind::NetworkReach, &key);
        export.records.stub(internet);
    }
    ec2::join_group_ids(export, &key, &balancer.security_groups);
    for zone in &balancer.availability_zones {
        ec2::join_subnet(export, &key, text(&zone.subnet_id));
    }
}
