//! Rule: network reach inside the estate, through zones.
//!
//! Zones (security groups, subnets, VPCs, prefix lists and address ranges
//! `other:network:<cidr>`) are intermediate nodes, so that the graph grows
//! with memberships and rules rather than with pairs of hosts. A zone has
//! two nodes: `NetworkPosition` (the attacker sends traffic from inside
//! it) and `NetworkAccess` (the attacker's traffic is admitted into it).
//!
//! # Premises and conclusions
//!
//! 1. `<source> NetworkReach <target>` (an ingress rule of a security
//!    group, or a reach relationship between hosts or zones), the source
//!    not being the internet: `NetworkPosition` of a source zone, or
//!    `ExecuteUser` of a source host, -> `NetworkAccess` of the target.
//!    Ports are not kept: a rule on any port admits the attacker to the
//!    target (an over-approximation).
//! 2. `<member> MemberOf <zone>`: `ExecuteUser` of a member that runs code
//!    -> `NetworkPosition` of the zone; `NetworkAccess` of the zone ->
//!    `NetworkAccess` of the member. A zone that is a member of a zone (a
//!    subnet or security group in its VPC) passes both on:
//!    `NetworkPosition` of the inner zone -> of the outer one, and
//!    `NetworkAccess` of the outer zone -> of the inner one. Edges that
//!    lead nowhere (a position in a zone that no rule names as a source,
//!    access to a zone that no rule admits into) are left out.
//! 3. A subnet or VPC whose `cidr` lies inside the range of an address
//!    range source (`other:network:10.0.0.0/16`), or a host outside any
//!    zone whose `ip` does: its `NetworkPosition` (or `ExecuteUser` of the
//!    host) -> `NetworkPosition` of the range.
//! 4. `<from> RoutesTo <to>` (a load balancer and its targets, a
//!    Kubernetes service and its workloads, an ingress and its services, a
//!    network interface and its instance): `NetworkAccess` of `from` ->
//!    `NetworkAccess` of `to`.
//! 5. `<host> Hosts <service>`: `NetworkAccess` of the host ->
//!    `NetworkAccess` of the service.
//!
//! Membership in a subnet and in a security group both admit the traffic,
//! where AWS requires the security group (and the network ACL, not read) to
//! allow it: the union over-approximates.
//!
//! # Technique, evidence, probability
//!
//! No technique (the exploit that follows names one). Evidence
//! `Configured`. Probability [`CONFIGURED_REACH`] times the segmentation
//! control for rule 1, [`STRUCTURAL`] for the others.
//!
//! # Fixes
//!
//! Rule 1: a configuration change on the target ("remove the ingress rule
//! from sg-app of security group db"). The others have none: removing a
//! host from its subnet or a target from its load balancer breaks the
//! service rather than fixing it.

use std::net::IpAddr;
use std::str::FromStr;

use ctem_model::RelationshipKind;
use foldhash::{HashMap, HashMapExt};
use ipnet::IpNet;

use super::context::{Context, INTERNET_ASSET, Role, Spec};
use super::probability::{self, CONFIGURED_REACH, STRUCTURAL};
use crate::{AssetId, Capability, EdgeKind, Evidence};

const MEMBERSHIP: Spec = Spec {
    kind: EdgeKind::NetworkReach,
    technique: None,
    probability: STRUCTURAL,
    evidence: Evidence::Configured,
};

pub fn apply(ctx: &mut Context<'_>) {
    let n = ctx.asset_count();
    let reach = pairs(ctx, RelationshipKind::NetworkReach);
    let mut source = vec![false; n];
    let mut target = vec![false; n];
    for &(from, to) in &reach {
        source[from as usize] = true;
        target[to as usize] = true;
    }
    let ranges = range_holders(ctx, &source);
    for &(holder, _) in &ranges {
        source[holder as usize] = true;
    }
    spread_to_inner_zones(ctx, &mut source, &mut target);

    lateral_reach(ctx, &reach);
    memberships(ctx, &source, &target);
    for &(holder, range) in &ranges {
        let premise = match ctx.role(holder) {
            Role::Zone => Capability::NetworkPosition,
            _ => Capability::ExecuteUser,
        };
        ctx.edge(
            (holder, premise),
            (range, Capability::NetworkPosition),
            MEMBERSHIP,
            Vec::new(),
        );
    }
    for (from, to) in pairs(ctx, RelationshipKind::RoutesTo) {
        let spec = Spec {
            kind: EdgeKind::RoutesTo,
            ..MEMBERSHIP
        };
        ctx.edge(
            (from, Capability::NetworkAccess),
            (to, Capability::NetworkAccess),
            spec,
            Vec::new(),
        );
    }
    for (host, service) in pairs(ctx, RelationshipKind::Hosts) {
        if ctx.role(service) == Role::Endpoint {
            ctx.edge(
                (host, Capability::NetworkAccess),
                (service, Capability::NetworkAccess),
                MEMBERSHIP,
                Vec::new(),
            );
        }
    }
}

/// Returns the distinct (from, to) pairs of a relationship kind, in input order,
/// without the internet as source: a rule on several ports is one pair.
fn pairs(ctx: &Context<'_>, kind: RelationshipKind) -> Vec<(AssetId, AssetId)> {
    let mut seen = foldhash::HashSet::default();
    let mut pairs = Vec::new();
    for link in ctx.links(kind) {
        if link.from == INTERNET_ASSET || link.from == link.to {
            continue;
        }
        if seen.insert((link.from, link.to)) {
            pairs.push((link.from, link.to));
        }
    }
    pairs
}

fn lateral_reach(ctx: &mut Context<'_>, reach: &[(AssetId, AssetId)]) {
    let probability = probability::with_control(CONFIGURED_REACH, ctx.input.controls.segmentation);
    let spec = Spec {
        probability,
        ..MEMBERSHIP
    };
    for &(from, to) in reach {
        let premise = match ctx.role(from) {
            Role::Zone => Capability::NetworkPosition,
            Role::Executable => Capability::ExecuteUser,
            _ => continue,
        };
        let change = if ctx.attribute(to, "aws_type") == Some("security-group") {
            format!(
                "remove the ingress rule from {} of security group {}",
                ctx.label(from),
                ctx.label(to)
            )
        } else {
            format!("block traffic from {} to {}", ctx.label(from), ctx.label(to))
        };
        let fix = ctx.configuration_fix(to, change);
        ctx.edge((from, premise), (to, Capability::NetworkAccess), spec, vec![fix]);
    }
}

fn memberships(ctx: &mut Context<'_>, source: &[bool], target: &[bool]) {
    let links = ctx.take_links(RelationshipKind::MemberOf);
    for link in &links {
        let (member, zone) = (link.from, link.to);
        if ctx.role(zone) != Role::Zone || member == zone {
            continue;
        }
        let role = ctx.role(member);
        let from_inside = match role {
            Role::Zone => Some(Capability::NetworkPosition),
            Role::Executable => Some(Capability::ExecuteUser),
            _ => None,
        };
        if let Some(premise) = from_inside
            && source[zone as usize]
        {
            ctx.edge(
                (member, premise),
                (zone, Capability::NetworkPosition),
                MEMBERSHIP,
                Vec::new(),
            );
        }
        if target[zone as usize] && !matches!(role, Role::Identity | Role::Internet) {
            ctx.edge(
                (zone, Capability::NetworkAccess),
                (member, Capability::NetworkAccess),
                MEMBERSHIP,
                Vec::new(),
            );
        }
    }
    ctx.put_links(RelationshipKind::MemberOf, links);
}

/// Passes the flags of outer zones to the zones inside them until nothing
/// changes. Zones nest a few levels deep (a security group or subnet in a
/// VPC), so this takes a few passes over the memberships.
fn spread_to_inner_zones(ctx: &Context<'_>, source: &mut [bool], target: &mut [bool]) {
    let nested: Vec<(AssetId, AssetId)> = ctx
        .links(RelationshipKind::MemberOf)
        .iter()
        .filter(|link| ctx.role(link.from) == Role::Zone && ctx.role(link.to) == Role::Zone)
        .map(|link| (link.from, link.to))
        .collect();
    loop {
        let mut changed = false;
        for &(inner, outer) in &nested {
            for flags in [&mut *source, &mut *target] {
                if flags[outer as usize] && !flags[inner as usize] {
                    flags[inner as usize] = true;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
}

/// An address range as (IPv6, prefix length, network address).
type RangeKey = (bool, u8, u128);

fn range_key(net: IpNet, length: u8) -> RangeKey {
    match net {
        IpNet::V4(net) => {
            let bits = u32::from(net.network());
            let masked = if length == 0 {
                0
            } else {
                bits & (u32::MAX << (32 - length))
            };
            (false, length, u128::from(masked))
        }
        IpNet::V6(net) => {
            let bits = u128::from(net.network());
            let masked = if length == 0 {
                0
            } else {
                bits & (u128::MAX << (128 - length))
            };
            (true, length, masked)
        }
    }
}

/// Returns the (holder, range) pairs: each subnet or VPC whose range lies inside
/// an address range that some rule names as a source, and each host
/// outside any zone whose address does.
fn range_holders(ctx: &Context<'_>, source: &[bool]) -> Vec<(AssetId, AssetId)> {
    let mut ranges: HashMap<RangeKey, Vec<AssetId>> = HashMap::new();
    let mut lengths: Vec<(bool, u8)> = Vec::new();
    for asset in 0..ctx.asset_count() as AssetId {
        if !source[asset as usize] || ctx.role(asset) != Role::Zone {
            continue;
        }
        let identifier = ctx.info(asset).key.identifier();
        let Some(text) = identifier.strip_prefix("network:") else {
            continue;
        };
        let Ok(net) = IpNet::from_str(text) else {
            continue;
        };
        let key = range_key(net, net.prefix_len());
        ranges.entry(key).or_default().push(asset);
        if !lengths.contains(&(key.0, key.1)) {
            lengths.push((key.0, key.1));
        }
    }
    if ranges.is_empty() {
        return Vec::new();
    }

    let mut in_zone = vec![false; ctx.asset_count()];
    for link in ctx.links(RelationshipKind::MemberOf) {
        if ctx.role(link.to) == Role::Zone {
            in_zone[link.from as usize] = true;
        }
    }
    let mut holders = Vec::new();
    for asset in 0..ctx.asset_count() as AssetId {
        let nets: Vec<IpNet> = match ctx.role(asset) {
            Role::Zone if ctx.info(asset).key.identifier().starts_with("network:") => continue,
            Role::Zone => ctx
                .identifiers(asset, "cidr")
                .filter_map(|text| IpNet::from_str(text).ok())
                .collect(),
            Role::Executable if !in_zone[asset as usize] => ctx
                .identifiers(asset, "ip")
                .filter_map(|text| IpAddr::from_str(text).ok())
                .map(IpNet::from)
                .collect(),
            _ => continue,
        };
        for net in nets {
            let v6 = matches!(net, IpNet::V6(_));
            for &(range_v6, length) in &lengths {
                if range_v6 != v6 || length > net.prefix_len() {
                    continue;
                }
                for &range in ranges.get(&range_key(net, length)).into_iter().flatten() {
                    holders.push((asset, range));
                }
            }
        }
    }
    holders.sort_unstable();
    holders.dedup();
    holders
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_keys_mask_addresses() {
        let subnet = IpNet::from_str("10.0.1.0/24").unwrap();
        let vpc = IpNet::from_str("10.0.0.0/16").unwrap();
        assert_eq!(range_key(subnet, 16), range_key(vpc, 16));
        assert_ne!(range_key(subnet, 24), range_key(vpc, 24));
        let any = IpNet::from_str("0.0.0.0/0").unwrap();
        assert_eq!(range_key(subnet, 0), range_key(any, 0));
        let v6 = IpNet::from_str("2001:db8:1::/48").unwrap();
        let v6_wide = IpNet::from_str("2001:db8::/32").unwrap();
        assert_eq!(range_key(v6, 32), range_key(v6_wide, 32));
    }
}
